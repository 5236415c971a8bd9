import { httpError } from '../errors.ts'
import type { Api } from '../catalog/types.ts'
import { guarded, post, readText } from '../transport/client.ts'
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
  const body: Record<string, unknown> = { ...ex.body, model: ex.upstreamId }
  if (ex.stream && USAGE_STREAMS.has(ex.api)) body.stream_options = { ...(body.stream_options as object), include_usage: true }
  const headers: Record<string, string> = up.key ? { authorization: `Bearer ${up.key}` } : {}
  if (ex.stream) headers.accept = 'text/event-stream'
  if (ex.traceparent) headers.traceparent = ex.traceparent
  const res = await post(up, PATHS[ex.api], headers, body, ex.signal, errorMessage, ex.onRetry)
  ex.onHeaders?.()
  if (!ex.stream) {
    const text = await readText(res, up)
    return { kind: 'json', text, json: parseJson(text, up) }
  }
  return { kind: 'stream', batches: openaiStream(guarded(res.body, up), up) }
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
const USAGE = Buffer.from('"usage":{')
const LF2 = Buffer.from('\n\n')
const DONE = Buffer.from(STREAM_END.data)
// The last events of a stream as the start of their lines (each preceded by a line end, or at a
// region's start): [DONE], error events, and the Responses API's last events by name or type.
const END_LINES = [
  `data: ${STREAM_END.data}\n`, `data:${STREAM_END.data}\n`, `data: ${STREAM_END.error}`, `data:${STREAM_END.error}`,
  ...[...STREAM_END.events].flatMap((name) => [`event: ${name}\n`, `event:${name}\n`, `data: {"type":"${name}"`, `data:{"type":"${name}"`]),
].map((m) => Buffer.from(m))
const END_EVENTS = END_LINES.map((m) => Buffer.concat([Buffer.from('\n'), m]))

// What every last event holds (its data or its name), to look for the last events only where
// one may be: most regions hold none.
const END_WORDS = [STREAM_END.data, 'error', ...[...STREAM_END.events].filter((name) => !name.includes('error'))].map((w) => Buffer.from(w))

// Whether these complete events hold a stream's last event, at the start of one of their lines.
function _ends(events: Buffer): boolean {
  if (!END_WORDS.some((w) => events.includes(w))) return false
  return END_LINES.some((m) => events.compare(m, 0, m.length, 0, Math.min(m.length, events.length)) === 0) || END_EVENTS.some((m) => events.includes(m))
}

/**
 * An OpenAI stream as it came, in batches: complete events travel on untouched, as one `raw`
 * region per chunk, unless they carry usage (parsed, so that it can be counted and stripped).
 * An event whose data is not a JSON object (nor `[DONE]`) ends the stream with an error, as does
 * an event over 16 MiB; a stream that ends before its last event (`[DONE]`, or the Responses
 * API's `response.completed`) ends with a truncation error. The cost is linear in the bytes,
 * however they are cut. CR line ends, rare, take the parsing path for the rest of the stream.
 */
export async function* openaiStream(body: AsyncIterable<Uint8Array>, up: Upstream): AsyncGenerator<SseEvent[]> {
  let pending: Buffer[] = [] // an event not complete yet, in the pieces it came in
  let pendingSize = 0
  let parser: SseParser | undefined // once a CR is seen
  let ended = false
  try {
    for await (const piece of body) {
      const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
      if (parser || chunk.includes(13)) {
        parser ??= new SseParser()
        const events = [...(pending.length ? parser.push(Buffer.concat(pending.splice(0))) : []), ...parser.push(chunk)]
        ended ||= events.some(_endsStream)
        yield* _valid(events, up)
        continue
      }
      // Where the last complete event ends: in this chunk, or on its first byte when the
      // blank line began in the previous one.
      let cut = chunk.lastIndexOf(LF2)
      cut = cut !== -1 ? cut + 2 : chunk[0] === 10 && pending.at(-1)?.at(-1) === 10 ? 1 : -1
      if (cut === -1) {
        pending.push(chunk)
        pendingSize += chunk.length
        if (pendingSize > LineTooLongError.LIMIT) throw new LineTooLongError(`an event longer than ${LineTooLongError.LIMIT} bytes`)
        continue
      }
      const head = chunk.subarray(0, cut)
      const complete = pending.length ? Buffer.concat([...pending, head]) : head
      pending = cut < chunk.length ? [chunk.subarray(cut)] : []
      pendingSize = chunk.length - cut
      ended ||= _ends(complete)
      if (!_wellFormed(complete)) yield* _valid(new SseParser().push(complete.toString()), up)
      else {
        const usage = complete.indexOf(USAGE)
        yield usage === -1 ? [{ data: '', raw: complete }] : _withUsage(complete, usage)
      }
    }
    const rest = parser ? parser.end() : pending.length ? new SseParser().push(Buffer.concat([...pending, LF2])) : []
    yield* _valid(rest, up)
    if (!ended && !rest.some(_endsStream)) throw streamTruncated(up.provider.name, 'its end ([DONE])')
  } catch (error) {
    throw unreadable(error, up.provider.name)
  }
}

// Complete events with the ones that carry usage parsed (to be counted, and stripped when the
// client did not ask for them), the runs of events between them left as they came.
// `first`: where the first usage is.
function _withUsage(events: Buffer, first: number): SseEvent[] {
  const out: SseEvent[] = []
  let from = 0
  for (let at = first; at !== -1; at = events.indexOf(USAGE, from)) {
    const previous = events.lastIndexOf(LF2, at)
    const start = previous === -1 ? 0 : Math.max(from, previous + 2)
    const next = events.indexOf(LF2, at)
    const end = next === -1 ? events.length : next + 2
    if (start > from) out.push({ data: '', raw: events.subarray(from, start) })
    out.push(...new SseParser().push(events.toString('utf8', start, end)))
    from = end
  }
  if (from < events.length) out.push({ data: '', raw: events.subarray(from) })
  return out
}

// Whether every `data:` line of these complete events holds a JSON object or [DONE], judged by
// its first and last bytes (a full parse of every event would cost the pass-through its speed).
function _wellFormed(events: Buffer): boolean {
  for (let start = 0; start < events.length;) {
    let end = events.indexOf(10, start)
    if (end === -1) end = events.length
    // `data:` (bytes, not Buffer.compare: a native call per line costs more than the check)
    if (end - start >= 5 && events[start] === 0x64 && events[start + 1] === 0x61 && events[start + 2] === 0x74 && events[start + 3] === 0x61 && events[start + 4] === 0x3a) {
      const value = events[start + 5] === 32 ? start + 6 : start + 5
      const done = end - value === DONE.length && events.compare(DONE, 0, DONE.length, value, end) === 0
      if (!done && (events[value] !== 0x7b || events[end - 1] !== 0x7d)) return false
    }
    start = end + 1
  }
  return true
}

// The events up to the first whose data is not JSON (nor [DONE]), then that one as an error.
function* _valid(events: SseEvent[], up: Upstream): Generator<SseEvent[]> {
  const bad = events.findIndex((e) => {
    if (e.data === STREAM_END.data) return false
    try {
      JSON.parse(e.data)
      return false
    } catch {
      return true
    }
  })
  if (bad === -1 && events.length) yield events
  if (bad === -1) return
  if (bad > 0) yield events.slice(0, bad)
  throw httpError(502, `${up.provider.name} sent an event that is not JSON`, { code: 'upstream_invalid' })
}

