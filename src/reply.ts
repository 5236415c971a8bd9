import { createHash } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import { PassThrough, Readable } from 'node:stream'
import type { Writable } from 'node:stream'
import { FastResponse } from 'srvx'
import type { H3Event, HTTPError } from 'h3'
import type { RequestView } from './request-view.ts'
import { deprecationState } from './catalog/deprecation.ts'
import type { Model } from './catalog/types.ts'
import { httpError } from './errors.ts'
import { feedOf, isFeed } from './feed.ts'
import type { Feed, Sink } from './feed.ts'

/**
 * A response with the request's own headers (request id, CORS) and `headers`; JSON unless
 * told otherwise. It keeps what it was made of, so that the node handler writes it as is (see
 * Reply).
 */
export function reply(event: RequestView, body: string | Uint8Array | null, headers?: Record<string, string>, status = 200): Response {
  return new Reply(body, status, merged({ 'content-type': 'application/json' }, event.context.headers, headers))
}

/**
 * srvx's FastResponse (a Response made without building a Headers object) that keeps its
 * parts: a node:http server writes them with one `writeHead` and one `end`, where srvx's own
 * conversion would first copy the head fields into a list and measure the body.
 */
export class Reply extends FastResponse {
  readonly parts: { readonly status: number; readonly statusText: string; readonly headers: Readonly<Record<string, string>>; readonly body: string | Uint8Array | null }
  /**
   * `headers` becomes the Reply's own: the body's length is added to it. A body sent often (a
   * listing) is best given as bytes, made once: text is measured and encoded on every send.
   */
  constructor(body: string | Uint8Array | null, status: number, headers: Record<string, string>) {
    const statusText = STATUS_CODES[status] ?? ''
    if (body !== null) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength)
    super(body, { status, statusText, headers })
    this.parts = { status, statusText, headers, body }
  }
}

/**
 * `into` with each of `headers` added in turn, a later one winning: plain stores, as a hot path
 * wants them (in V8, a spread after the first in an object literal costs a runtime call per
 * property, about 7,000 instructions for a response's headers, counted with callgrind).
 */
export function merged(into: Record<string, string>, ...headers: (Readonly<Record<string, string>> | undefined)[]): Record<string, string> {
  for (const h of headers) for (const name in h) into[name] = h[name]!
  return into
}

/** A strong ETag for `body`: a hash of its bytes. */
export function strongEtag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
}

/** Whether the request's If-None-Match names `etag` (or `*`): the client's copy is current (304). */
export function etagMatches(event: RequestView, etag: string): boolean {
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
 * A streamed response of `chunks` (written as `bytes` makes them, when given), an async
 * generator pulled one value at a time as the client reads, or a feed paused while the client
 * cannot take more (so a slow reader slows the upstream rather than filling memory). A client
 * that leaves ends the chunks, and with them the upstream request. The body is piped by hand
 * (see `ChunkPipe`).
 */
export function streamReply(event: H3Event, chunks: AsyncGenerator<string | Uint8Array> | Feed<string | Uint8Array>, format: StreamFormat, headers?: Record<string, string>): Response
export function streamReply<T>(event: H3Event, chunks: AsyncGenerator<T> | Feed<T>, format: StreamFormat, headers: Record<string, string>, bytes: (chunk: T) => string | Uint8Array): Response
export function streamReply(event: H3Event, chunks: AsyncGenerator<unknown> | Feed<unknown>, format: StreamFormat, headers?: Record<string, string>, bytes: (chunk: unknown) => string | Uint8Array = (c) => c as string | Uint8Array): Response {
  event.context.streaming = true
  const pipe = new ChunkPipe(isFeed(chunks) ? chunks : feedOf(chunks), bytes, format, event.context.streams, () => event.context.streamEnded?.())
  // Without a Node response (`app.fetch`), a web stream over it: cancelled, even before its
  // first read, it ends the chunks.
  const body = event.runtime?.node ? pipe : Readable.toWeb(pipe.pipe(new PassThrough()))
  return new FastResponse(body as unknown as ConstructorParameters<typeof FastResponse>[0], { statusText: 'OK', headers: merged({}, event.context.headers, STREAM_HEADERS, { 'content-type': format.contentType }, headers) })
}

/**
 * A stream's chunks as a body that srvx pipes into the response (or, for `app.fetch`, that is
 * piped into a web stream): written by hand, each as it comes, the chunks paused while the
 * socket drains. A web ReadableStream, or a Node stream piped with `pipeline`, costs more to set
 * up than the rest of a short stream's delivery. The chunks start at once, what comes before the
 * pipe is held (a few microtasks; no I/O comes between): a client that leaves before anything
 * was written still ends them (counted, settled, the upstream released), which a generator never
 * started would not.
 * The headers go with the first chunk when it is at hand, else at the end of the first turn of
 * the event loop (a reasoning model may think for minutes before its first event); chunks that
 * come within one turn go out in one write, the end included. While it runs it is registered in
 * `open`, so that a drain can end it with a last error event. `ended` is told once, after the
 * chunks' own cleanup has run, however the stream ends.
 */
class ChunkPipe implements Sink<unknown> {
  readonly #chunks: Feed<unknown>
  readonly #bytes: (chunk: unknown) => string | Uint8Array
  readonly #format: StreamFormat
  readonly #open: Set<{ end(reason: string): void }> | undefined
  #held: Uint8Array[] = [] // what came before the pipe
  #dest: Writable | undefined
  #over: { error?: unknown; last?: string } | undefined // how it ended, if it did
  #wrote = false
  #corked = false
  #turning = false // an immediate is set for the end of this turn
  #draining = false

  constructor(chunks: Feed<unknown>, bytes: (chunk: unknown) => string | Uint8Array, format: StreamFormat, open: Set<{ end(reason: string): void }> | undefined, ended: () => void) {
    this.#chunks = chunks
    this.#bytes = bytes
    this.#format = format
    this.#open = open
    open?.add(this)
    void chunks.start(this).then(ended, ended)
  }

  pipe<T extends Writable>(dest: T): T {
    this.#dest = dest
    const held = this.#held
    this.#held = []
    for (const bytes of held) this.#write(bytes)
    if (this.#over) {
      this.#finish(this.#over)
      return dest
    }
    dest.once('close', () => this.destroy()) // after the end, a no-op
    // At the end of the first turn, the headers go out alone when nothing came yet.
    if (!this.#turning) {
      this.#turning = true
      setImmediate(this.#turn)
    }
    return dest
  }

  next(value: unknown): void {
    if (this.#over) return
    let bytes: Uint8Array
    try {
      const made = this.#bytes(value)
      bytes = typeof made === 'string' ? Buffer.from(made) : made
    } catch (error) {
      this.fail(error)
      return this.#chunks.cancel()
    }
    if (!bytes.length) return
    if (this.#dest) this.#write(bytes)
    else this.#held.push(bytes)
  }

  done(): void {
    this.#end({})
  }

  fail(error: unknown): void {
    this.#end({ error })
  }

  /** At the end of a drain: a last error event in the stream's own format, then the end. */
  end(reason: string): void {
    if (this.#over) return
    this.#end({ last: this.#format.error(httpError(503, reason, { code: 'shutting_down' })) })
    this.#chunks.cancel() // and the request's abort signal closes the upstream
  }

  /** The client left, or the response was never sent: the chunks end. */
  destroy(): void {
    if (this.#over) return
    this.#over = {}
    this.#open?.delete(this)
    this.#chunks.cancel()
  }

  /** As srvx calls it (unbound) when the stream it piped into closes. */
  readonly abort = (): void => this.destroy()

  // Writes within one turn of the event loop go out in one write, the end included (the end of
  // a short stream comes with its last events).
  #write(bytes: Uint8Array): void {
    const dest = this.#dest!
    this.#wrote = true
    if (!this.#corked) {
      this.#corked = true
      dest.cork()
      if (!this.#turning) {
        this.#turning = true
        setImmediate(this.#turn)
      }
    }
    if (dest.write(bytes) || this.#draining) return
    this.#draining = true
    this.#chunks.pause()
    dest.once('drain', () => {
      this.#draining = false
      this.#chunks.resume()
    })
  }

  readonly #turn = (): void => {
    this.#turning = false
    const dest = this.#dest!
    if (this.#corked) {
      this.#corked = false
      dest.uncork()
    } else if (!this.#wrote && !dest.destroyed) (dest as Writable & { flushHeaders?(): void }).flushHeaders?.()
  }

  #end(over: { error?: unknown; last?: string }): void {
    if (this.#over) return
    this.#over = over
    this.#open?.delete(this)
    if (this.#dest) this.#finish(over)
  }

  #finish({ error, last }: { error?: unknown; last?: string }): void {
    const dest = this.#dest!
    this.#corked = false
    if (error !== undefined) dest.destroy(error as Error)
    else dest.end(last)
  }
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
  const headers = merged({ 'x-gateway-model': _headerSafe(called.model.id) }, deprecationHeaders(called.model, now))
  if (called.dropped.length) headers['x-gateway-dropped-params'] = called.dropped.map(_headerSafe).join(', ')
  return headers
}

function _headerSafe(name: string): string {
  return /^[\x20-\x7e]*$/.test(name) ? name : encodeURIComponent(name)
}
