import { HTTPError } from 'h3'
import type { Model } from '../catalog/types.ts'
import { httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { SseParser, sseText } from '../providers/sse.ts'
import type { SseEvent } from '../providers/sse.ts'
import { redactEvent, upstreamFailure } from './upstream.ts'
import type { Upstream } from './upstream.ts'

// Byte markers of the events the gateway must look at; every other event passes untouched.
const USAGE = Buffer.from('"usage":{')
const ERROR = Buffer.from('"error"')

/**
 * An OpenAI stream passed through as bytes: complete events travel on as they came unless they
 * carry usage (counted, and stripped when the client did not ask), an error or the provider key
 * (redacted), which are parsed; only those regions are decoded. CR line ends, rare, take the
 * parsing path for the rest of the stream.
 */
export async function* passThrough(gw: Gateway, model: Model, body: AsyncIterable<Uint8Array> & { destroy(): unknown }, includeUsage: boolean, up: Upstream, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const key = up.key
  const keyBytes = key ? Buffer.from(key) : undefined
  const parsed = async function* (): AsyncGenerator<SseEvent[]> {
    let pending: Buffer | undefined
    let parser: SseParser | undefined // once a CR is seen
    for await (const piece of body) {
      const chunk = pending ? Buffer.concat([pending, piece]) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
      pending = undefined
      if (parser || chunk.includes(13)) {
        parser ??= new SseParser()
        const events = parser.push(chunk)
        if (events.length) yield events
        continue
      }
      const end = chunk.lastIndexOf('\n\n')
      if (end === -1) {
        pending = chunk
        continue
      }
      const complete = chunk.subarray(0, end + 2)
      if (end + 2 < chunk.length) pending = chunk.subarray(end + 2)
      if (complete.includes(USAGE) || complete.includes(ERROR) || (keyBytes && complete.includes(keyBytes))) yield new SseParser().push(complete)
      else yield [{ data: '', raw: complete } as SseEvent & { raw: Uint8Array }]
    }
    if (pending) yield new SseParser().push(Buffer.concat([pending, Buffer.from('\n\n')]))
  }
  const redacting = async function* (): AsyncGenerator<SseEvent[]> {
    try {
      for await (const batch of parsed()) yield key ? batch.map((e) => redactEvent(e, key)) : batch
    } catch (error) {
      throw upstreamFailure(error, up)
    } finally {
      body.destroy()
    }
  }
  for await (const batch of accounted(gw, model, redacting(), includeUsage, signal)) {
    const raw = (batch[0] as { raw?: Uint8Array }).raw
    yield raw ?? Buffer.from(batch.map(sseText).join(''))
  }
}

/**
 * A stream's events as they pass to the client: the usage it carries is counted once at the end
 * (the last one seen), the usage chunk the gateway asked for is stripped unless the client asked
 * too, a failure becomes an error event (the OpenAI SDK raises it; no [DONE]), and the call is
 * counted as ok, error, or aborted when the client left.
 */
export async function* accounted(gw: Gateway, model: Model, batches: AsyncGenerator<SseEvent[]>, includeUsage: boolean, signal: AbortSignal): AsyncGenerator<SseEvent[]> {
  let result: 'ok' | 'error' | 'aborted' = 'aborted' // until the stream ends one way or the other
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
    result = 'error'
    // Mid-stream, the status is sent: the error goes in an event the OpenAI SDK raises.
    const e = HTTPError.isError(error) && !error.unhandled ? error : httpError(502, 'the upstream stream failed', { code: 'upstream_error' })
    const code = (e.data as { code?: string } | undefined)?.code ?? null
    yield [{ data: JSON.stringify({ error: { message: e.message, type: e.status === 504 ? 'timeout' : 'server_error', param: null, code } }) }]
  } finally {
    if (usage) account(gw, model, usage)
    gw.stats.call(model.id, result)
  }
}

/**
 * Counts the tokens of an answer's usage (chat, completions, embeddings; the Responses API's
 * input/output tokens, also inside a response.completed event) and their cost at the catalog's prices.
 */
export function account(gw: Gateway, model: Model, json: Record<string, unknown>): void {
  const usage = (json.usage ?? (json.response as { usage?: unknown } | undefined)?.usage) as Record<string, any> | undefined
  if (!usage) return
  const prompt = Number(usage.prompt_tokens ?? usage.input_tokens ?? 0)
  const completion = Number(usage.completion_tokens ?? usage.output_tokens ?? 0)
  const cached = Number(usage.prompt_tokens_details?.cached_tokens ?? usage.input_tokens_details?.cached_tokens ?? 0)
  const p = model.pricing
  const cost = p ? ((prompt - cached) * p.input + cached * (p.cached_input ?? p.input) + completion * p.output) / 1e6 : 0
  gw.stats.usage(model.id, prompt, completion, cost)
}
