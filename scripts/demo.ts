// `npm run demo`: the mock upstream and the gateway together, every provider pointed at the
// mock, so that everything works offline with no real key. Prints curl lines to try.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { nodeHandler } from '../src/node-handler.ts'
import { createApp } from '../src/app.ts'
import { catalog } from '../src/catalog/catalog.generated.ts'
import { listen } from '../src/listen.ts'
import { createMockUpstream } from '../src/mock/app.ts'
import { catalogModels } from '../src/mock/catalog-models.ts'

/** The environment that points every provider at the mock (keys are the demo's own, not secrets). */
export function demoEnv(mockUrl: string): Record<string, string> {
  return {
    OPENAI_API_KEY: 'demo-openai-key',
    OPENAI_BASE_URL: `${mockUrl}/v1`,
    ANTHROPIC_API_KEY: 'demo-anthropic-key',
    ANTHROPIC_BASE_URL: mockUrl,
    LOCAL_BASE_URL: `${mockUrl}/v1`,
    ADMIN_TOKEN: 'demo-admin-token-0123',
  }
}

/** The mock upstream, answering for every model in the catalog. */
export function demoMock() {
  return createMockUpstream({ models: catalogModels(catalog) })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mock = createServer(nodeHandler(demoMock().app)).listen(0, '127.0.0.1')
  await new Promise((resolve) => mock.once('listening', resolve))
  const mockUrl = `http://127.0.0.1:${(mock.address() as AddressInfo).port}`
  const { app, gateway } = createApp({ catalog, env: { ...process.env, ...demoEnv(mockUrl) } })
  const listener = await listen(nodeHandler(app), gateway.config)
  const url = listener.url.replace(/\/$/, '')
  console.log(`gateway on ${url}, every provider answered by the mock upstream on ${mockUrl}; admin token demo-admin-token-0123\n\ntry:\n`)
  console.log(`curl ${url}/v1/models`)
  console.log(`curl ${url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"gpt-5.1","messages":[{"role":"user","content":"hello"}]}'`)
  console.log(`curl -N ${url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"claude-sonnet-4-5","stream":true,"messages":[{"role":"user","content":"hello"}]}'`)
  console.log(`curl ${url}/api/chat -d '{"model":"qwen3-coder-30b","messages":[{"role":"user","content":"hello"}]}'`)
  console.log(`curl ${url}/api/stats\n`)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void listener.close().then(() => mock.close(() => process.exit(0))))
}
