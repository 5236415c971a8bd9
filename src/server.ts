// The gateway process: reads the environment, serves the compiled catalog with listhen, and
// closes on SIGTERM/SIGINT. `npm start` compiles the catalog first.
import { toNodeHandler } from 'h3/node'
import { listen } from 'listhen'
import { createApp } from './app.ts'
import { catalog } from './catalog/catalog.generated.ts'
import { ConfigError } from './config.ts'

let built: ReturnType<typeof createApp>
try {
  built = createApp({ catalog, env: process.env })
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  console.error(`cannot start: ${error.message}`)
  process.exit(1)
}
const { app, gateway } = built
const { port, host } = gateway.config

const listener = await listen(toNodeHandler(app), { port, hostname: host, showURL: false, isProd: true, autoClose: false })
if (port !== 0 && listener.address.port !== port) {
  await listener.close()
  console.error(`cannot start: PORT ${port} is in use on ${host}`)
  process.exit(1)
}
console.log(JSON.stringify({ time: new Date().toISOString(), message: 'listening', url: listener.url, port: listener.address.port, catalog_version: catalog.version, models: Object.keys(catalog.models).length }))

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    console.log(JSON.stringify({ time: new Date().toISOString(), message: `${signal}: closing` }))
    void listener.close().then(() => process.exit(0))
  })
}
