import { createHash } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import { PassThrough, Readable } from 'node:stream'
import type { Writable } from 'node:stream'
import { FastResponse } from 'srvx'
import type { H3Event, HTTPError } from 'h3'
import { deprecationState } from './catalog/deprecation.ts'
import type { Model } from './catalog/types.ts'
import { httpError } from './errors.ts'

/**
 * A response with the request's own headers (request id, CORS) and `headers`; JSON unless
 * told otherwise. srvx's FastResponse with plain headers is sent without building a Headers
 * object, which keeps small answers close to a bare node:http server's cost.
 */
export function reply(event: H3Event, body: string | null, headers: Record<string, string> = {}, status = 200): Response {
  return new FastResponse(body, { status, statusText: STATUS_CODES[status], headers: { 'content-type': 'application/json', ...event.context.headers, ...headers } })
}

/** A strong ETag for `body`: a hash of its bytes. */
export function strongEtag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
}

/** Whether the request's If-None-Match names `etag` (or `*`): the client's copy is current (304). */
export function etagMatches(event: H3Event, etag: string): boolean {
  const given = event.req.headers.get('if-none-match')
  if (!given) return false
  return given.trim() === '*' || given.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)
}

/** A dialect's stream: its content type, and how it writes an error as its last line or event. */
export interface StreamFormat {
  readonly contentType: string
  error(error: HTTPError): string
}

// Streams go out as they come: no caching, no proxy buffering (nginx), and never compressed.
const STREAM_HEADERS = { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }

/**
 * A streamed response of `chunks` (written as `bytes` makes them, when given), pulled one at a
 * time as the client reads (so a slow reader slows the upstream rather than filling memory). A
 * client that leaves ends the chunks, and with them the upstream request. The body is piped by
 * hand (see `ChunkPipe`).
 */
export function streamReply(event: H3Event, chunks: AsyncGenerator<string | Uint8Array>, format: StreamFormat, headers?: Record<string, string>): Response
export function streamReply<T>(event: H3Event, chunks: AsyncGenerator<T>, format: StreamFormat, headers: Record<string, string>, bytes: (chunk: T) => string | Uint8Array): Response
export function streamReply(event: H3Event, chunks: AsyncGenerator<unknown>, format: StreamFormat, headers: Record<string, string> = {}, bytes: (chunk: unknown) => string | Uint8Array = (c) => c as string | Uint8Array): Response {
  event.context.streaming = true
  const pipe = new ChunkPipe(chunks, bytes, format, event.context.streams, () => event.context.streamEnded?.())
  // Without a Node response (`app.fetch`), a web stream over it: cancelled, even before its
  // first read, it ends the chunks.
  const body = event.runtime?.node ? pipe : Readable.toWeb(pipe.pipe(new PassThrough()))
  return new FastResponse(body as unknown as ConstructorParameters<typeof FastResponse>[0], { statusText: 'OK', headers: { ...event.context.headers, ...STREAM_HEADERS, 'content-type': format.contentType, ...headers } })
}

/**
 * A stream's chunks as a body that srvx pipes into the response (or, for `app.fetch`, that is
 * piped into a web stream): written by hand, each as it comes, waiting for the socket to drain. A web
 * ReadableStream, or a Node stream piped with `pipeline`, costs more to set up than the rest of
 * a short stream's delivery. The chunks start at once, their first awaited by the pipe: a
 * client that leaves before anything was written still ends them (counted, settled, the
 * upstream released), which a generator never started would not. The headers go with the
 * first chunk when it is at hand, else at once (a reasoning model may think for minutes before
 * its first event); chunks that come within one turn of the event loop go out in one write. While it runs it is registered in `open`, so that a drain can end it with a
 * last error event. `ended` is told once, after the chunks' own cleanup has run, however the
 * stream ends.
 */
class ChunkPipe {
  readonly #chunks: AsyncGenerator<unknown>
  readonly #bytes: (chunk: unknown) => string | Uint8Array
  readonly #format: StreamFormat
  readonly #open: Set<{ end(reason: string): void }> | undefined
  readonly #ended: () => void
  #first: Promise<IteratorResult<unknown>> | undefined
  #dest: Writable | undefined
  #last: string | undefined // a drain's last event
  #done = false
  #told = false

  constructor(chunks: AsyncGenerator<unknown>, bytes: (chunk: unknown) => string | Uint8Array, format: StreamFormat, open: Set<{ end(reason: string): void }> | undefined, ended: () => void) {
    this.#chunks = chunks
    this.#bytes = bytes
    this.#format = format
    this.#open = open
    this.#ended = ended
    this.#first = chunks.next()
    this.#first.catch(() => {}) // its failure is the pipe's to handle
    open?.add(this)
  }

  pipe<T extends Writable>(dest: T): T {
    if (this.#done) return dest.end(this.#last) // ended before it was piped
    this.#dest = dest
    dest.once('close', () => this.destroy()) // after the end, a no-op
    // What comes within one turn of the event loop goes out in one write, the end included
    // (the end of a short stream comes with its last events). At the end of the first turn the
    // headers go out alone when no chunk came yet. One immediate serves both.
    let wrote = false
    let corked = false
    let waiting = true // for the end of the turn
    const turn = () => {
      waiting = false
      if (corked) {
        corked = false
        dest.uncork()
      } else if (!wrote && !dest.destroyed) (dest as Writable & { flushHeaders?(): void }).flushHeaders?.()
    }
    setImmediate(turn)
    void (async () => {
      try {
        for (let next = this.#first!; ; next = this.#chunks.next()) {
          this.#first = undefined
          const { value, done } = await next
          if (this.#done) return
          if (done) {
            this.#finish()
            corked = false
            dest.end()
            return this.#tell()
          }
          const made = this.#bytes(value)
          const bytes = typeof made === 'string' ? Buffer.from(made) : made
          if (!bytes.length) continue
          wrote = true
          if (!corked) {
            corked = true
            dest.cork()
            if (!waiting) {
              waiting = true
              setImmediate(turn)
            }
          }
          if (!dest.write(bytes)) await _drained(dest)
        }
      } catch (error) {
        if (this.#done) return
        this.#finish()
        dest.destroy(error as Error)
        this.#tell()
      }
    })()
    return dest
  }

  /** At the end of a drain: a last error event in the stream's own format, then the end. */
  end(reason: string): void {
    if (this.#done) return
    this.#finish()
    this.#last = this.#format.error(httpError(503, reason, { code: 'shutting_down' }))
    this.#dest?.end(this.#last)
    this.#return() // the request's abort signal closes the upstream
  }

  /** The client left, or the response was never sent: the chunks end. */
  destroy(): void {
    if (this.#done) return
    this.#finish()
    this.#return()
  }

  /** As srvx calls it (unbound) when the stream it piped into closes. */
  readonly abort = (): void => this.destroy()

  #return(): void {
    this.#chunks.return(undefined).catch(() => {}).finally(() => this.#tell())
  }

  #finish(): void {
    this.#done = true
    this.#open?.delete(this)
  }

  #tell(): void {
    if (!this.#told) this.#ended()
    this.#told = true
  }
}

// Resolves when `dest` can take more, or has closed.
function _drained(dest: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      dest.off('drain', done)
      dest.off('close', done)
      resolve()
    }
    dest.on('drain', done)
    dest.on('close', done)
  })
}

// A deprecated model's headers, made once per model (its schedule is the catalog's, fixed).
const deprecated = new WeakMap<Model, Record<string, string>>()

/** `Deprecation` (RFC 9745) and `Sunset` (RFC 8594) headers for a deprecated model, else none. */
export function deprecationHeaders(model: Model, now: Date): Record<string, string> {
  const s = deprecationState(model, now)
  if (s.state !== 'deprecated') return {}
  let headers = deprecated.get(model)
  if (!headers) {
    headers = {
      // The date it was announced, or `true` (the draft's form) when the provider gave none.
      deprecation: s.announced ? `@${Date.parse(`${s.announced}T00:00:00Z`) / 1000}` : 'true',
      sunset: new Date(`${s.sunset}T00:00:00Z`).toUTCString(),
    }
    deprecated.set(model, headers)
  }
  return headers
}

/**
 * Headers a model call's answer carries: the model that served it, deprecation, and what the
 * catalog's rules dropped. Names a client made up (a parameter, an id only a pattern matched)
 * that a header cannot carry as they are (beyond printable ASCII) are percent-encoded.
 */
export function callHeaders(called: { readonly model: Model; readonly dropped: readonly string[] }, now: Date): Record<string, string> {
  const headers = { 'x-gateway-model': _headerSafe(called.model.id), ...deprecationHeaders(called.model, now) }
  return called.dropped.length ? { ...headers, 'x-gateway-dropped-params': called.dropped.map(_headerSafe).join(', ') } : headers
}

function _headerSafe(name: string): string {
  return /^[\x20-\x7e]*$/.test(name) ? name : encodeURIComponent(name)
}
