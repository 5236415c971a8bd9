// `npm run mock`: the mock upstream on PORT (default 8080), as the local provider expects.
import { createServer } from 'node:http'
import { nodeHandler } from '../node-handler.ts'
import { catalog } from '../catalog/catalog.generated.ts'
import { createMockUpstream } from './app.ts'
import { catalogModels } from './catalog-models.ts'

const port = Number(process.env.PORT ?? 8080)
const { app } = createMockUpstream({ models: catalogModels(catalog) })
const server = createServer(nodeHandler(app)).listen(port, process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address() as { port: number }
  console.log(JSON.stringify({ message: 'listening', url: `http://127.0.0.1:${address.port}/`, mock: true }))
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)))
