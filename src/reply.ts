import { createHash } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
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
 * A streamed response of `chunks`, pulled one at a time as the client reads (so a slow reader
 * slows the upstream rather than filling memory). A client that leaves cancels the stream,
 * which ends the generator and with it the upstream request.
 */
export function streamReply(event: H3Event, chunks: AsyncGenerator<string | Uint8Array>, format: StreamFormat, headers: Record<string, string> = {}): Response {
  const encoder = new TextEncoder()
  const open = event.context.streams
  let handle: { end(reason: string): void } | undefined
  let ended = false
  // The chunks start at once, their first awaited by the first pull: a client that leaves before
  // reading anything still ends them (counted, settled, the upstream released), which a
  // generator never started would not.
  let first: Promise<IteratorResult<string | Uint8Array>> | undefined
  const finish = () => {
    ended = true
    if (handle) open?.delete(handle)
  }
  // Whoever waits for the stream's end hears it once, after the chunks' own cleanup has run.
  let told = false
  const tell = () => {
    if (!told) event.context.streamEnded?.()
    told = true
  }
  event.context.streaming = true
  const body = new ReadableStream<Uint8Array>({
    // An empty first chunk makes Node send the headers now, not with the first upstream event
    // (a reasoning model may think for minutes before that).
    start(controller) {
      controller.enqueue(new Uint8Array(0))
      first = chunks.next()
      first.catch(() => {}) // its failure is the first pull's to handle
      // At the end of a drain: a last error event in the stream's own format, then the end.
      handle = {
        end(reason) {
          if (ended) return
          finish()
          controller.enqueue(encoder.encode(format.error(httpError(503, reason, { code: 'shutting_down' }))))
          controller.close()
          chunks.return(undefined).catch(() => {}).finally(tell) // the request's abort signal closes the upstream
        },
      }
      open?.add(handle)
    },
    async pull(controller) {
      try {
        const next = first ?? chunks.next()
        first = undefined
        const { value, done } = await next
        if (ended) return
        if (done) {
          finish()
          tell()
          controller.close()
        } else controller.enqueue(typeof value === 'string' ? encoder.encode(value) : value)
      } catch (error) {
        if (ended) return
        finish()
        tell()
        controller.error(error)
      }
    },
    async cancel() {
      finish()
      await chunks.return(undefined).catch(() => {})
      tell()
    },
  })
  return new FastResponse(body, { statusText: 'OK', headers: { ...event.context.headers, ...STREAM_HEADERS, 'content-type': format.contentType, ...headers } })
}

/** `Deprecation` (RFC 9745) and `Sunset` (RFC 8594) headers for a deprecated model, else none. */
export function deprecationHeaders(model: Model, now: Date): Record<string, string> {
  const s = deprecationState(model, now)
  if (s.state !== 'deprecated') return {}
  return {
    // The date it was announced, or `true` (the draft's form) when the provider gave none.
    deprecation: s.announced ? `@${Date.parse(`${s.announced}T00:00:00Z`) / 1000}` : 'true',
    sunset: new Date(`${s.sunset}T00:00:00Z`).toUTCString(),
  }
}

/** Headers a model call's answer carries: the model that served it, deprecation, and what the catalog's rules dropped. */
export function callHeaders(called: { readonly model: Model; readonly dropped: readonly string[] }, now: Date): Record<string, string> {
  const headers = { 'x-gateway-model': called.model.id, ...deprecationHeaders(called.model, now) }
  return called.dropped.length ? { ...headers, 'x-gateway-dropped-params': called.dropped.join(', ') } : headers
}
