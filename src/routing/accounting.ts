import { HTTPError } from 'h3'
import type { Model } from '../catalog/types.ts'
import { httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { statsName } from '../stats.ts'
import type { CallResult } from '../stats.ts'
import { endsStream, STREAM_END } from '../protocols/openai.ts'
import { LineTooLongError, SseParser, sseText } from '../protocols/sse.ts'
import type { SseEvent } from '../protocols/sse.ts'
import { streamTruncated, upstreamFailure } from '../transport/client.ts'
import type { Upstream } from '../transport/client.ts'

// Byte markers of the events the gateway must look at (usage to count); every other event
// passes untouched.
const USAGE = Buffer.from('"usage":{')
const LF2 = Buffer.from('\n\n')
const DATA = Buffer.from('data:')
const DONE = Buffer.from(STREAM_END.data)
// The last events of a stream as their lines: [DONE], the Responses API's last events, errors.
const END_EVENTS = [`data: ${STREAM_END.data}`, `data:${STREAM_END.data}`, ...[...STREAM_END.events].map((name) => `event: ${name}\n`), `data: ${STREAM_END.error}`, `data:${STREAM_END.error}`].map((m) => Buffer.from(m))

/**
 * An OpenAI stream passed through as bytes: complete events travel on as they came unless they
 * carry usage (counted, and stripped when the client did not ask), which are parsed; only those
 * regions are decoded. An event whose data is not a JSON object (nor `[DONE]`) ends the stream
 * with an error event, as does an event over 16 MiB; a stream that ends before its last event
 * (`[DONE]`, or the Responses API's `response.completed`) gets an error event and counts as
 * truncated. The cost is linear in the bytes, however they are cut. CR line ends, rare, take the
 * parsing path for the rest of the stream.
 */
export async function* passThrough(gw: Gateway, model: Model, body: AsyncIterable<Uint8Array> & { destroy(): unknown }, includeUsage: boolean, up: Upstream, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const parsed = async function* (): AsyncGenerator<SseEvent[]> {
    let pending: Buffer[] = [] // an event not complete yet, in the pieces it came in
    let pendingSize = 0
    let parser: SseParser | undefined // once a CR is seen
    let ended = false
    for await (const piece of body) {
      const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
      if (parser || chunk.includes(13)) {
        parser ??= new SseParser()
        const events = [...(pending.length ? parser.push(Buffer.concat(pending.splice(0))) : []), ...parser.push(chunk)]
        ended ||= events.some(endsStream)
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
      ended ||= END_EVENTS.some((e) => complete.includes(e))
      if (!_wellFormed(complete)) yield* _valid(new SseParser().push(complete), up)
      else if (complete.includes(USAGE)) yield new SseParser().push(complete)
      else yield [{ data: '', raw: complete } as SseEvent & { raw: Uint8Array }]
    }
    const rest = parser ? parser.end() : pending.length ? new SseParser().push(Buffer.concat([...pending, LF2])) : []
    yield* _valid(rest, up)
    if (!ended && !rest.some(endsStream)) throw streamTruncated(up, 'its end ([DONE])')
  }
  const guarded = async function* (): AsyncGenerator<SseEvent[]> {
    try {
      yield* parsed()
    } catch (error) {
      throw upstreamFailure(error, up)
    } finally {
      body.destroy()
    }
  }
  for await (const batch of accounted(gw, model, guarded(), includeUsage, signal)) {
    const raw = (batch[0] as { raw?: Uint8Array }).raw
    yield raw ?? Buffer.from(batch.map(sseText).join(''))
  }
}

// Whether every `data:` line of these complete events holds a JSON object or [DONE], judged by
// its first and last bytes (a full parse of every event would cost the pass-through its speed).
function _wellFormed(events: Buffer): boolean {
  for (let start = 0; start < events.length;) {
    let end = events.indexOf(10, start)
    if (end === -1) end = events.length
    if (end > start && events.compare(DATA, 0, DATA.length, start, start + DATA.length) === 0) {
      const value = events[start + DATA.length] === 32 ? start + DATA.length + 1 : start + DATA.length
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

/**
 * A stream's events as they pass to the client: the usage it carries is counted once at the end
 * (the last one seen), the usage chunk the gateway asked for is stripped unless the client asked
 * too, a failure becomes an error event (the OpenAI SDK raises it; no [DONE]), and the call is
 * counted as ok, error, or aborted when the client left.
 */
export async function* accounted(gw: Gateway, model: Model, batches: AsyncGenerator<SseEvent[]>, includeUsage: boolean, signal: AbortSignal): AsyncGenerator<SseEvent[]> {
  let result: CallResult = 'aborted' // until the stream ends one way or the other
  // The last usage seen, counted once at the end: some servers (vLLM's continuous usage
  // stats) repeat a running total on every chunk.
  let usage: Record<string, unknown> | undefined
  try {
    for await (const batch of batches) {
      const out = batch.filter((event) => {
        if (!event.data.includes('"usage":{')) return true // raw regions (data '') included
        const json = JSON.parse(event.data) as Record<string, unknown>
        usage = json
        // The usage chunk the gateway asked for on the client's behalf: not theirs to see.
        return includeUsage || !Array.isArray(json.choices) || json.choices.length > 0
      })
      if (out.length) yield out
    }
    result = 'ok'
  } catch (error) {
    if (signal.aborted) return
    // Mid-stream, the status is sent: the error goes in an event the OpenAI SDK raises.
    const e = HTTPError.isError(error) && !error.unhandled ? error : httpError(502, 'the upstream stream failed', { code: 'upstream_error' })
    const code = (e.data as { code?: string } | undefined)?.code ?? null
    result = code === 'upstream_truncated' ? 'truncated' : 'error'
    yield [{ data: JSON.stringify({ error: { message: e.message, type: e.status === 504 ? 'timeout' : 'server_error', param: null, code } }) }]
  } finally {
    if (usage) account(gw, model, usage)
    gw.stats.call(statsName(model), result)
  }
}

/**
 * Counts the tokens of an answer's usage (chat, completions, embeddings; the Responses API's
 * input/output tokens, also inside a response.completed event) and their cost at the catalog's
 * prices. A figure that is not a count (negative, fractional, not a number) is left out, and the
 * answer counted as one with invalid usage.
 */
export function account(gw: Gateway, model: Model, json: Record<string, unknown>): void {
  const usage = (json.usage ?? (json.response as { usage?: unknown } | undefined)?.usage) as Record<string, any> | undefined
  if (!usage || typeof usage !== 'object') return
  let invalid = false
  const count = (value: unknown): number => {
    if (value === undefined || value === null) return 0
    if (Number.isSafeInteger(value) && (value as number) >= 0) return value as number
    invalid = true
    return 0
  }
  const prompt = count(usage.prompt_tokens ?? usage.input_tokens)
  const completion = count(usage.completion_tokens ?? usage.output_tokens)
  const cached = Math.min(prompt, count(usage.prompt_tokens_details?.cached_tokens ?? usage.input_tokens_details?.cached_tokens))
  const p = model.pricing
  const cost = p ? ((prompt - cached) * p.input + cached * (p.cached_input ?? p.input) + completion * p.output) / 1e6 : 0
  gw.stats.usage(statsName(model), prompt, completion, cost, invalid)
}
