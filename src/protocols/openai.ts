import { httpError } from '../errors.ts'
import type { Api } from '../catalog/types.ts'
import type { Feed, Sink } from '../feed.ts'
import { bodyFeed, guarded, post, readText } from '../transport/client.ts'
import type { Upstream } from '../transport/client.ts'
import { LineTooLongError, SseParser, streamTruncated, unreadable } from './sse.ts'
import type { SseEvent } from './sse.ts'
import { announcedDay } from './served.ts'
import type { ServedModel } from './served.ts'
import type { Exchange, Outcome } from './types.ts'

// Each API's path under the provider's base URL (which ends in /v1 for OpenAI itself).
const PATHS: Readonly<Record<Api, string>> = {
  chat: '/chat/completions',
  completions: '/completions',
  responses: '/responses',
  embeddings: '/embeddings',
  rerank: '/rerank',
  moderations: '/moderations',
}

// APIs whose streams can carry a usage chunk when asked for one.
const USAGE_STREAMS = new Set(['chat', 'completions'])

/**
 * How an OpenAI stream says it is complete: `data: [DONE]` (chat, completions), the Responses
 * API's last event, or an error event (after which OpenAI sends nothing). A stream that ends
 * without one was cut off.
 */
export const STREAM_END = { data: '[DONE]', error: '{"error"', events: new Set(['response.completed', 'response.incomplete', 'response.failed', 'error']) }

// Whether `e`, parsed, is the event that completes an OpenAI stream.
function _endsStream(e: SseEvent): boolean {
  if (e.data === STREAM_END.data || e.data.startsWith(STREAM_END.error) || (e.event !== undefined && STREAM_END.events.has(e.event))) return true
  return e.data.startsWith('{"type":"') && STREAM_END.events.has(e.data.slice(9, e.data.indexOf('"', 9)))
}

/**
 * The `openai` protocol (OpenAI, llama.cpp, vLLM, Ollama's /v1): the body goes through with
 * only the catalog's changes (the upstream id; the rules already ran). Streams ask for the usage
 * chunk so that tokens can be counted; the caller strips it again if the client did not ask.
 * A stream is answered as it came, in checked batches (see `openaiStream`).
 */
export async function callOpenAI(ex: Exchange, up: Upstream): Promise<Outcome> {
  const body: Record<string, unknown> = { ...ex.body }
  body.model = ex.upstreamId
  if (ex.stream && USAGE_STREAMS.has(ex.api)) {
    const options: Record<string, unknown> = { ...(body.stream_options as object) }
    options.include_usage = true
    body.stream_options = options
  }
  const headers: Record<string, string> = up.key ? { authorization: `Bearer ${up.key}` } : {}
  if (ex.stream) headers.accept = 'text/event-stream'
  if (ex.traceHeaders) Object.assign(headers, ex.traceHeaders)
  const res = await post(up, PATHS[ex.api], headers, body, ex.signal, errorMessage, ex.onRetry)
  ex.onHeaders?.()
  if (!ex.stream) {
    const text = await readText(res, up)
    return { kind: 'json', text, json: parseJson(text, up) }
  }
  return { kind: 'stream', batches: openaiStream(guarded(res.body, up), up), feed: openaiFeed(bodyFeed(res.body, up), up) }
}

/**
 * The models the upstream serves (`GET /models`) and the shutdown dates it announces (OpenAI's
 * `shutdown_date`), for the drift check: a control-plane call with ofetch (retried), loaded only
 * when asked for. A redirect is a failure: the key never follows one.
 */
export async function listModels(up: Upstream): Promise<ServedModel[]> {
  const { ofetch } = await import('ofetch')
  const list = await ofetch<{ data?: { id: string; shutdown_date?: unknown }[] }>(`${up.baseUrl}/models`, { headers: up.key ? { authorization: `Bearer ${up.key}` } : {}, retry: 2, timeout: 15_000, redirect: 'error' })
  return (list.data ?? []).map((m) => ('shutdown_date' in m ? { id: m.id, shutdown: announcedDay(m.shutdown_date) } : { id: m.id }))
}

/** The message of an error answer: OpenAI's `{"error":{"message"}}` (or a bare string), FastAPI's `{"detail"}`. */
export function errorMessage(text: string): string | undefined {
  try {
    const json = JSON.parse(text) as { error?: { message?: unknown } | string; detail?: unknown; message?: unknown }
    const m = typeof json.error === 'string' ? json.error : (json.error?.message ?? json.detail ?? json.message)
    if (typeof m === 'string') return m
  } catch {}
  return undefined
}

/** The upstream's JSON answer, or 502 when it is not JSON. */
export function parseJson(text: string, up: Upstream): Record<string, unknown> {
  try {
    const json = JSON.parse(text) as unknown
    if (json && typeof json === 'object') return json as Record<string, unknown>
  } catch {}
  throw httpError(502, `${up.provider.name} answered with a body that is not JSON`, { code: 'upstream_invalid' })
}

// Byte markers of the events the stream reader must look at (usage, to count it; the last
// event); every other event passes untouched.
const USAGE = Buffer.from('usage')
const USAGE_OBJECT = Buffer.from('":{')
const LF2 = Buffer.from('\n\n')
const DONE = Buffer.from(STREAM_END.data)
const ERROR = Buffer.from(STREAM_END.error)
const TYPED = Buffer.from('{"type":"')
const [LF, SPACE, QUOTE] = [10, 32, 34]

// What a region of complete events is: not well-formed (a `data:` line that is neither a JSON
// object nor [DONE]), well-formed, or well-formed and holding a stream's last event.
type Region = 'malformed' | 'ok' | 'last'

// Judges complete events in one pass over their line starts: each `data:` line by its first and
// last bytes (a full parse of every event would cost the pass-through its speed), and whether one
// is a last event ([DONE], an error, the Responses API's last events by `event:` name or type).
function _region(events: Buffer): Region {
  let last = false
  for (let start = 0; start < events.length;) {
    if (events[start] === LF) { // the blank line that ends an event
      start++
      continue
    }
    let end = events.indexOf(LF, start)
    if (end === -1) end = events.length
    const data = _field(events, start, end, 'data:')
    if (data !== undefined) {
      if (_at(events, DONE, data, end)) last = true
      else if (events[data] !== 0x7b || events[end - 1] !== 0x7d) return 'malformed'
      else if (events[data + 1] === QUOTE && (_at(events, ERROR, data) || (_at(events, TYPED, data) && STREAM_END.events.has(events.toString('latin1', data + TYPED.length, events.indexOf(QUOTE, data + TYPED.length)))))) last = true
    } else {
      const name = _field(events, start, end, 'event:')
      if (name !== undefined && STREAM_END.events.has(events.toString('latin1', name, end))) last = true
    }
    start = end + 1
  }
  return last ? 'last' : 'ok'
}

// Where the value of line `start..end` begins when the line is the field `name` (its optional
// space skipped), compared byte by byte (a native call per line costs more than the check).
function _field(events: Buffer, start: number, end: number, name: string): number | undefined {
  if (end - start < name.length) return undefined
  for (let i = 0; i < name.length; i++) if (events[start + i] !== name.charCodeAt(i)) return undefined
  const value = start + name.length
  return events[value] === SPACE ? value + 1 : value
}

// Where the next usage object (`"usage":{`) begins, from `from`; -1 when none does. Looked for
// by its short word: a needle of 7 bytes or more costs Node a search table per call, more than
// the search of a few kilobytes itself.
function _usage(events: Buffer, from: number): number {
  for (let at = events.indexOf(USAGE, from); at !== -1; at = events.indexOf(USAGE, at + USAGE.length)) {
    if (at > 0 && events[at - 1] === QUOTE && _at(events, USAGE_OBJECT, at + USAGE.length)) return at - 1
  }
  return -1
}

// Whether `events` holds `word` at `at` (and, with `end`, nothing after it before `end`).
function _at(events: Buffer, word: Buffer, at: number, end = at + word.length): boolean {
  if (end - at !== word.length || at + word.length > events.length) return false
  for (let i = 0; i < word.length; i++) if (events[at + i] !== word[i]) return false
  return true
}

/**
 * An OpenAI stream as it came, in batches: complete events travel on untouched, as one `raw`
 * region per chunk, unless they carry usage (parsed, so that it can be counted and stripped).
 * An event whose data is not a JSON object (nor `[DONE]`) ends the stream with an error, as does
 * an event over 16 MiB; a stream that ends before its last event (`[DONE]`, or the Responses
 * API's `response.completed`) ends with a truncation error. See `OpenAIStreamReader`.
 */
export async function* openaiStream(body: AsyncIterable<Uint8Array>, up: Upstream): AsyncGenerator<SseEvent[]> {
  const reader = new OpenAIStreamReader(up)
  const out: SseEvent[][] = []
  let failure: unknown
  try {
    for await (const piece of body) {
      failure = reader.push(piece, out)
      yield* out.splice(0)
      if (failure) break
    }
    failure ??= reader.end(out)
    yield* out.splice(0)
  } catch (error) {
    throw unreadable(error, up.provider.name)
  }
  if (failure) throw failure
}

/** The same stream as a feed of batches (the completion hot path): `body`'s chunks read as they are pushed. */
export function openaiFeed(body: Feed<Buffer>, up: Upstream): Feed<SseEvent[]> {
  const reader = new OpenAIStreamReader(up)
  const out: SseEvent[][] = []
  const passed = (sink: Sink<SseEvent[]>, failure: unknown) => {
    for (const batch of out) sink.next(batch)
    out.length = 0
    return failure
  }
  return {
    start: (sink) => body.start({
      next(piece) {
        const failure = passed(sink, reader.push(piece, out))
        if (!failure) return
        body.cancel()
        sink.fail(failure)
      },
      done() {
        const failure = passed(sink, reader.end(out))
        if (failure) sink.fail(failure)
        else sink.done()
      },
      fail: (error) => sink.fail(unreadable(error, up.provider.name)),
    }),
    pause: () => body.pause(),
    resume: () => body.resume(),
    cancel: () => body.cancel(),
  }
}

/**
 * Reads an OpenAI stream chunk by chunk, each complete event judged by its bytes (see
 * `_region`): the cost is linear in the bytes, however they are cut. CR line ends, rare, take
 * the parsing path for the rest of the stream. `push` and `end` add the batches they complete to
 * `out` and return the failure that ends the stream, if one did (the batches before it added):
 * an event that is not JSON, one over 16 MiB, or (at the end) no last event.
 */
class OpenAIStreamReader {
  readonly #up: Upstream
  #pending: Buffer[] = [] // an event not complete yet, in the pieces it came in
  #pendingSize = 0
  #parser: SseParser | undefined // once a CR is seen
  #ended = false

  constructor(up: Upstream) {
    this.#up = up
  }

  push(piece: Uint8Array, out: SseEvent[][]): unknown {
    try {
      this.#push(piece, out)
    } catch (error) {
      return unreadable(error, this.#up.provider.name)
    }
  }

  end(out: SseEvent[][]): unknown {
    try {
      const rest = this.#parser ? this.#parser.end() : this.#pending.length ? new SseParser().push(Buffer.concat([...this.#pending, LF2])) : []
      _valid(rest, this.#up, out)
      if (!this.#ended && !rest.some(_endsStream)) return streamTruncated(this.#up.provider.name, 'its end ([DONE])')
    } catch (error) {
      return unreadable(error, this.#up.provider.name)
    }
  }

  #push(piece: Uint8Array, out: SseEvent[][]): void {
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
    if (this.#parser || chunk.includes(13)) {
      this.#parser ??= new SseParser()
      const events = [...(this.#pending.length ? this.#parser.push(Buffer.concat(this.#pending.splice(0))) : []), ...this.#parser.push(chunk)]
      this.#ended ||= events.some(_endsStream)
      return _valid(events, this.#up, out)
    }
    // Where the last complete event ends: in this chunk, or on its first byte when the
    // blank line began in the previous one.
    let cut = chunk.lastIndexOf(LF2)
    cut = cut !== -1 ? cut + 2 : chunk[0] === 10 && this.#pending.at(-1)?.at(-1) === 10 ? 1 : -1
    if (cut === -1) {
      this.#pending.push(chunk)
      this.#pendingSize += chunk.length
      if (this.#pendingSize > LineTooLongError.LIMIT) throw new LineTooLongError(`an event longer than ${LineTooLongError.LIMIT} bytes`)
      return
    }
    const head = chunk.subarray(0, cut)
    const complete = this.#pending.length ? Buffer.concat([...this.#pending, head]) : head
    this.#pending = cut < chunk.length ? [chunk.subarray(cut)] : []
    this.#pendingSize = chunk.length - cut
    const region = _region(complete)
    this.#ended ||= region === 'last'
    if (region === 'malformed') return _valid(new SseParser().push(complete.toString()), this.#up, out)
    const usage = _usage(complete, 0)
    out.push(usage === -1 ? [{ data: '', raw: complete }] : _withUsage(complete, usage))
  }
}

// Complete events with the ones that carry usage parsed (to be counted, and stripped when the
// client did not ask for them), the runs of events between them left as they came.
// `first`: where the first usage is.
function _withUsage(events: Buffer, first: number): SseEvent[] {
  const out: SseEvent[] = []
  let from = 0
  for (let at = first; at !== -1; at = _usage(events, from)) {
    const previous = events.lastIndexOf(LF2, at)
    const start = previous === -1 ? 0 : Math.max(from, previous + 2)
    const next = events.indexOf(LF2, at)
    const end = next === -1 ? events.length : next + 2
    if (start > from) out.push({ data: '', raw: events.subarray(from, start) })
    out.push(..._event(events, start, end))
    from = end
  }
  if (from < events.length) out.push({ data: '', raw: events.subarray(from) })
  return out
}

// The event in `events` from `start` to `end` (its blank line included): a lone `data:` line (the
// usage chunk as OpenAI writes it) read as it is, any other parsed.
function _event(events: Buffer, start: number, end: number): SseEvent[] {
  const lone = events[end - 1] === LF && events[end - 2] === LF && events.indexOf(LF, start) === end - 2
  const data = lone ? _field(events, start, end - 2, 'data:') : undefined
  return data === undefined ? new SseParser().push(events.toString('utf8', start, end)) : [{ data: events.toString('utf8', data, end - 2) }]
}

// Adds to `out` the events up to the first whose data is not JSON (nor [DONE]), then throws for that one.
function _valid(events: SseEvent[], up: Upstream, out: SseEvent[][]): void {
  const bad = events.findIndex((e) => {
    if (e.data === STREAM_END.data) return false
    try {
      JSON.parse(e.data)
      return false
    } catch {
      return true
    }
  })
  if (bad === -1) {
    if (events.length) out.push(events)
    return
  }
  if (bad > 0) out.push(events.slice(0, bad))
  throw httpError(502, `${up.provider.name} sent an event that is not JSON`, { code: 'upstream_invalid' })
}
