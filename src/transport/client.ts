// The one HTTP client of the completion path (undici's request on a keep-alive pool), and the
// guard around each upstream body. It knows no protocol: what an answer means is the caller's.
import type { EventEmitter } from 'node:events'
import type { Dispatcher } from 'undici'
import type { Provider } from '../catalog/types.ts'
import type { Feed, Sink } from '../feed.ts'
import { HTTPError } from 'h3'
import { httpError } from '../errors.ts'

/** A provider as this process reaches it: base URL (env override applied), key, timeouts. */
export interface Upstream {
  readonly provider: Provider
  readonly baseUrl: string
  /** The base URL's origin and path (no trailing slash), as undici's agent takes them. */
  readonly origin: string
  readonly basePath: string
  /** The provider's key from its `api_key_env`; undefined for keyless servers or when unset. */
  readonly key?: string
  /** Time to the first byte of the answer (headers). */
  readonly firstByteMs: number
  /** Longest silence between two chunks of the body. */
  readonly idleMs: number
  /** Largest non-streamed answer read (MAX_ANSWER_BYTES). */
  readonly maxAnswerBytes: number
  /** Retries on failures worth another try (the provider's `retries`); absent: none. */
  readonly retries?: { readonly attempts: number; readonly backoffMs: number; readonly maxWaitMs: number; readonly budgetMs: number }
}

/** Aborts when the client goes away: an EventEmitter that emits `abort` (undici takes it as a signal), with an AbortSignal's `aborted` and `reason` (the request's ClientSignal). */
export type Signal = EventEmitter & { readonly aborted: boolean; readonly reason?: unknown }

// One keep-alive pool per process for every upstream: undici's request is the completion hot
// path (about 3x the throughput of fetch here). Redirects are never followed (undici's request
// does not follow them), so a key never travels to another host. undici takes ~100 ms to load,
// a third of the gateway's startup: it loads on first use, or when `loadUpstreamClient` is
// called once the server listens.
let client: Promise<Dispatcher> | undefined
let loaded: Dispatcher | undefined // once it has, for a call that need not wait a turn

/** Loads the upstream HTTP client (undici) if it is not loaded yet. */
export function loadUpstreamClient(): Promise<Dispatcher> {
  client ??= import('undici').then(({ Agent }) => (loaded = new Agent({ keepAliveTimeout: 30_000, connections: 256 })))
  return client
}

// A connection that ended before any answer: reset, written to after the peer closed, or closed.
const DROPPED: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'])

// How much of an upstream error body is read to find its message.
const MAX_ERROR_BYTES = 64 * 1024

// The answers worth another try: too many requests, and the upstream's own failures (529:
// Anthropic's overloaded); not what the gateway found wrong with an answer (a redirect, an
// encoding, a size), which another try would get again.
const RETRIED: ReadonlySet<number> = new Set([429, 500, 502, 503, 504, 529])
const FINAL: ReadonlySet<string> = new Set(['upstream_redirect', 'upstream_invalid', 'upstream_too_large'])

/**
 * Whether a failed call is worth another try elsewhere (the next deployment, a fallback): a
 * connection failure, a timeout, 429 or one of the upstream's own failures; never an answer the
 * request itself caused (other 4xx, an answer over MAX_ANSWER_BYTES), nor a client that left
 * (not an HTTP error).
 */
export function worthTryingElsewhere(error: unknown): boolean {
  // An answer too large would be as large elsewhere: the request asked for it.
  return HTTPError.isError(error) && RETRIED.has(error.status) && (error.data as { code?: string } | undefined)?.code !== 'upstream_too_large'
}

/**
 * POSTs JSON to the upstream as `postOnce` does, trying again on the provider's `retries`: for
 * a connection failure or a status worth another try, while attempts and the time budget last
 * and the client is still there, after exponential backoff with jitter (a 429's `retry-after`
 * when it gives one, up to the longest wait). Only before any answer reached the client: what
 * this returns is a 2xx nothing has read yet. `onRetry` hears each retry, for the stats.
 */
export async function post(up: Upstream, path: string, headers: Record<string, string>, body: unknown, signal: Signal, messageOf: (text: string) => string | undefined, onRetry?: () => void): Promise<Dispatcher.ResponseData> {
  const r = up.retries
  if (!r?.attempts) return postOnce(up, path, headers, body, signal, messageOf)
  const deadline = Date.now() + r.budgetMs
  for (let attempt = 0; ; attempt++) {
    try {
      return await postOnce(up, path, headers, body, signal, messageOf)
    } catch (error) {
      const code = HTTPError.isError(error) ? (error.data as { code?: string } | undefined)?.code : undefined
      if (attempt >= r.attempts || signal.aborted || !worthTryingElsewhere(error) || FINAL.has(code ?? '')) throw error
      const asked = (error as HTTPError).status === 429 ? _retryAfterMs((error as HTTPError).headers?.get('retry-after')) : undefined
      const wait = asked ?? r.backoffMs * 2 ** attempt * (1 + Math.random() / 2)
      if (wait > r.maxWaitMs || Date.now() + wait > deadline) throw error
      onRetry?.()
      await _sleep(wait, signal)
      if (signal.aborted) throw error
    }
  }
}

// A retry-after header as milliseconds: seconds, or an HTTP date; undefined when it says neither.
function _retryAfterMs(value: string | null | undefined): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

function _sleep(ms: number, signal: Signal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.off('abort', done)
      resolve()
    }
    signal.once('abort', done)
  })
}

/**
 * POSTs JSON to the upstream once. Answers 2xx with undici's response; a redirect is 502 (never
 * followed, so a key never travels to another host); an upstream 4xx/5xx becomes the same
 * status with the upstream's message (as its protocol's `messageOf` finds it in the body, else
 * the body's start) and `Retry-After`; no first byte in time is
 * 504; a network failure is 502. A connection dropped before any answer is tried once more
 * (a stale keep-alive connection). A client that went away aborts it (`signal`).
 */
async function postOnce(up: Upstream, path: string, headers: Record<string, string>, body: unknown, signal: Signal, messageOf: (text: string) => string | undefined): Promise<Dispatcher.ResponseData> {
  const agent = loaded ?? (await loadUpstreamClient())
  // Bodies are read as they are sent: a compressed one would pass on as garbage.
  const all: Record<string, string> = { 'content-type': 'application/json', 'accept-encoding': 'identity' }
  for (const name in headers) all[name] = headers[name]! // stores, not a spread (see reply.ts's merged)
  const json = JSON.stringify(body)
  // The agent's own request: undici's top-level one parses a URL and spreads its options per call.
  const send = () => agent.request({ origin: up.origin, path: `${up.basePath}${path}`, method: 'POST', headers: all, body: json, signal, headersTimeout: up.firstByteMs, bodyTimeout: up.idleMs })
  let res: Dispatcher.ResponseData
  try {
    res = await send().catch((error: unknown) => {
      // Most often a pooled connection the upstream closed as the request went out (an idle
      // limit it did not announce), so the request was never read: it goes once more. An
      // upstream that did read it before dropping the connection gets it twice, as it would
      // from the official SDKs, which retry connection errors themselves.
      if (signal.aborted || !DROPPED.has((error as { code?: string }).code ?? '')) throw error
      return send()
    })
  } catch (error) {
    throw _upstreamFailure(error, up)
  }
  const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase()
  if (encoding !== 'identity' && res.statusCode < 400) {
    _discard(res.body)
    throw httpError(502, `${up.provider.name} answered with content-encoding '${encoding}' although the gateway asked for none`, { code: 'upstream_invalid' })
  }
  if (res.statusCode < 300) {
    // A stream asked for (the adapters accept only event streams then) must be one: anything
    // else would reach the client as an empty stream, its error unsaid.
    const type = String(res.headers['content-type'] ?? '').toLowerCase()
    if (headers.accept !== 'text/event-stream' || type.startsWith('text/event-stream')) return res
    _discard(res.body)
    throw httpError(502, `${up.provider.name} answered a stream request with ${type ? `'${type.split(';')[0]}'` : 'no content type'}, not an event stream`, { code: 'upstream_invalid' })
  }
  if (res.statusCode < 400) {
    // Never followed: the key would travel to wherever the upstream points.
    _discard(res.body)
    throw httpError(502, `${up.provider.name} answered with a redirect (${res.statusCode}), which the gateway does not follow: point the provider's base URL at the right address`, { code: 'upstream_redirect' })
  }
  const text = encoding === 'identity' ? await _readSome(res.body) : (_discard(res.body), '')
  const message = _unmasked(messageOf(text) ?? (text.trim() ? text.trim().slice(0, 500) : `status ${res.statusCode}`))
  const retryAfter = res.headers['retry-after']
  throw httpError(res.statusCode, `${up.provider.name}: ${message}`, {
    code: 'upstream_error',
    headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : undefined,
  })
}

/**
 * The whole body of an upstream's answer, up to `maxAnswerBytes` (502 past it, the rest unread);
 * a failure while reading it is mapped as `post`'s are.
 */
export async function readText(res: Dispatcher.ResponseData, up: Upstream): Promise<string> {
  const tooLarge = () => httpError(502, `${up.provider.name} answered with more than ${up.maxAnswerBytes} bytes (MAX_ANSWER_BYTES)`, { code: 'upstream_too_large' })
  if (Number(res.headers['content-length'] ?? 0) > up.maxAnswerBytes) {
    _discard(res.body)
    throw tooLarge()
  }
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length
      if (size > up.maxAnswerBytes) throw tooLarge()
      chunks.push(chunk as Buffer)
    }
  } catch (error) {
    _discard(res.body)
    throw _upstreamFailure(error, up)
  }
  return Buffer.concat(chunks).toString('utf8')
}

// What to tell the client when talking to the upstream failed (`error` rethrown if the client left).
function _upstreamFailure(error: unknown, up: Upstream): unknown {
  if (HTTPError.isError(error)) return error
  const code = (error as { code?: string } | undefined)?.code
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return httpError(504, `${up.provider.name} did not answer within ${up.firstByteMs} ms`, { code: 'upstream_timeout' })
  if (code === 'UND_ERR_BODY_TIMEOUT') return httpError(504, `${up.provider.name} sent nothing for ${up.idleMs} ms`, { code: 'upstream_timeout' })
  if ((error as Error)?.name === 'AbortError' || code === 'UND_ERR_ABORTED') return error
  const cause = (error as { code?: string; cause?: { code?: string } })?.code ?? (error as { cause?: { code?: string } })?.cause?.code ?? 'network error'
  return httpError(502, `${up.provider.name} could not be reached (${cause})`, { code: 'upstream_unreachable', cause: error })
}

/**
 * The one guard over an upstream's body: its chunks as they come, a failure while reading them
 * mapped as `post`'s are, and the body released when the reading ends however it ends (the
 * stream finished, failed, or the client left and the reader was returned).
 */
export async function* guarded(body: Dispatcher.ResponseData['body'], up: Upstream): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk as Buffer
  } catch (error) {
    throw _upstreamFailure(error, up)
  } finally {
    _discard(body)
  }
}

/**
 * The same guard as a feed (the completion hot path): the body's bytes pushed as they come, all
 * that has come at once (the pieces of one read of the socket, such as a stream's many small
 * chunks, in one), held back while the reader asks, a failure while reading mapped as `post`'s
 * are, and the body released when the feed ends however it ends (finished, failed, or cancelled).
 */
export function bodyFeed(body: Dispatcher.ResponseData['body'], up: Upstream): Feed<Buffer> {
  let sink: Sink<Buffer>
  let paused = false
  let over = false
  let released!: () => void
  const closed = new Promise<void>((resolve) => (released = resolve))
  // Whether this call ended the feed (the first end wins; the sink hears only that one).
  const release = () => {
    if (over) return false
    over = true
    _discard(body)
    released()
    return true
  }
  // What the sink throws fails the feed (once): never an uncaught error in the body's events.
  const read = () => {
    try {
      for (let chunk: Buffer | null; !paused && !over && (chunk = body.read() as Buffer | null) !== null;) sink.next(chunk)
    } catch (error) {
      if (release()) sink.fail(error)
    }
  }
  const last = (tell: () => void) => {
    if (!release()) return
    try {
      tell()
    } catch (error) {
      sink.fail(error)
    }
  }
  return {
    start(to) {
      sink = to
      body.on('readable', read)
      body.once('end', () => last(() => sink.done()))
      body.once('error', (error) => last(() => sink.fail(_upstreamFailure(error, up))))
      return closed
    },
    pause: () => void (paused = true),
    resume() {
      paused = false
      read()
    },
    cancel: () => void release(),
  }
}

// OpenAI's masked echo of a key ("Incorrect API key provided: sk-abc***xyz") in an error message.
function _unmasked(text: string): string {
  return text.replace(/\b(sk|key)-[\w-]*\*{2,}[\w-]*/g, '[redacted]')
}

// Drops a body nobody will read. undici's body emits an error when destroyed unread: with no
// listener, that error would be uncaught and end the process.
function _discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {})
  body.destroy()
}

async function _readSome(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer)
      size += (chunk as Buffer).length
      if (size >= MAX_ERROR_BYTES) break
    }
  } catch {}
  body.destroy()
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BYTES)
}
