// The gateway process of a catalog: reads the environment, serves the catalog on node:http, and
// closes on SIGTERM/SIGINT (src/server.ts runs it on the compiled catalog).
import { nodeHandler } from './node-handler.ts'
import { bufferedStdout, createApp } from './app.ts'
import type { Catalog } from './catalog/types.ts'
import { ConfigError } from './config.ts'
import { listen } from './listen.ts'
import type { Listener } from './listen.ts'
import { loadUpstreamClient } from './transport/client.ts'

/** Serves `catalog` until a signal drains the process; a configuration it cannot start with ends the process with 1, saying why. */
export async function serve(catalog: Catalog): Promise<void> {
  const log = bufferedStdout()
  let built: ReturnType<typeof createApp>
  try {
    built = createApp({ catalog, env: process.env, log })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`cannot start: ${error.message}`)
    process.exit(1)
  }
  const { app, gateway } = built
  const { port, host } = gateway.config

  let listener: Listener
  try {
    const onError = (error: Error) => log(JSON.stringify({ time: new Date().toISOString(), message: `server error: ${error.message}` }))
    listener = await listen(nodeHandler(app, onError), { ...gateway.config, onError })
  } catch (error) {
    const code = (error as { code?: string }).code
    console.error(`cannot start: ${code === 'EADDRINUSE' ? `PORT ${port} is in use on ${host}` : `cannot listen on ${host}:${port} (${code ?? (error as Error).message})`}`)
    process.exit(1)
  }
  void loadUpstreamClient() // now that requests are answered, load the completion path's client
  console.log(JSON.stringify({ time: new Date().toISOString(), message: 'listening', url: listener.url, port: listener.port, catalog_version: catalog.version, models: Object.keys(catalog.models).length }))

  // SIGTERM/SIGINT: refuse new connections, let in-flight requests finish for up to
  // SHUTDOWN_TIMEOUT_MS, then end the streams still open with an error event, and exit 0. A
  // second signal during the drain changes nothing (Ctrl-C under npm sends SIGINT twice).
  let draining: Promise<void> | undefined
  const say = (message: string) => log(JSON.stringify({ time: new Date().toISOString(), message }))
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (draining) return say(`${signal}: already draining`)
      draining = drain(signal)
    })
  }

  async function drain(signal: string): Promise<void> {
    say(`${signal}: draining for up to ${gateway.config.shutdownTimeoutMs} ms`)
    const closed = listener.close().then(() => true as const)
    const wait = (ms: number) => new Promise<false>((resolve) => setTimeout(() => resolve(false), ms).unref())
    if (!(await Promise.race([closed, wait(gateway.config.shutdownTimeoutMs)]))) {
      say(`ending ${gateway.streams.size} open stream(s)`)
      for (const stream of [...gateway.streams]) stream.end('the gateway is shutting down')
      await Promise.race([closed, wait(2000)])
    }
    await gateway.close()
    say('closed')
    log.flush()
    process.exit(0)
  }
}
