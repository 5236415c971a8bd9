import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer } from 'node:http'
import type { RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the gateway listens: where, and how long a client may take to send its request. */
export interface ListenOptions {
  readonly port: number
  readonly host: string
  /** Longest time to receive a request's headers (Node's `headersTimeout`). */
  readonly headersTimeoutMs: number
  /** Longest time to receive a whole request, body included (Node's `requestTimeout`): 408 after it. */
  readonly requestTimeoutMs: number
  /** Told of a server error after listening (an accept that failed, such as EMFILE); the server serves on. */
  readonly onError?: (error: Error) => void
}

/** A listening server: its URL (with a trailing `/`), its port, and a graceful close. */
export interface Listener {
  readonly url: string
  readonly port: number
  /**
   * Stops accepting connections, closes the idle ones now and each busy one as soon as its
   * answer is sent; resolves when none is left.
   */
  close(): Promise<void>
}

// Where Node tells that a response has finished.
const FINISHED = 'http.server.response.finish'

// How often Node looks for requests past their timeouts (its default is 30 s, which would let a
// trickled body live for up to 30 s past its limit).
const TIMEOUT_CHECK_MS = 1000

/**
 * Listens with node:http (`port` 0: any free port). Rejects with the listen error (EADDRINUSE
 * when the port is taken).
 */
export async function listen(handler: RequestListener, options: ListenOptions): Promise<Listener> {
  const server = createServer({
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_MS,
  }, handler)
  // A connection that answers while the server closes is not kept alive for another request:
  // Node says so on a diagnostics channel, listened to only then (a listener on each response
  // would cost every request), and the connection is idle once Node has handled the finish.
  const answered = ({ server: from }: { server?: unknown }) => from === server && process.nextTick(() => server.closeIdleConnections())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => (server.off('error', reject), resolve()))
  })
  // An error event with no listener would end the process.
  server.on('error', (error) => options.onError?.(error))
  const { port } = server.address() as AddressInfo
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () => new Promise<void>((resolve) => {
      subscribe(FINISHED, answered as (message: unknown) => void)
      server.close(() => (unsubscribe(FINISHED, answered as (message: unknown) => void), resolve()))
      server.closeIdleConnections()
    }),
  }
}
