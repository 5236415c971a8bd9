import type { H3Event } from 'h3'
import { HTTPError } from 'h3'
import type { Api, Model } from '../catalog/types.ts'
import { httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { callAnthropic } from '../providers/anthropic.ts'
import { callOpenAI } from '../providers/openai.ts'
import type { SseEvent } from '../providers/sse.ts'
import type { Outcome } from '../providers/types.ts'
import { SseParser } from '../providers/sse.ts'
import { sseText } from '../routes/inference.ts'
import { applyRules } from './rules.ts'
import { redact, upstreamFailure } from './upstream.ts'
import type { Upstream } from './upstream.ts'

// APIs that stream when asked to.
const STREAMING: ReadonlySet<Api> = new Set(['chat', 'completions', 'responses'])

/** A call's model, the parameters dropped on the way, and the upstream's answer. */
export interface Called {
  readonly model: Model
  readonly dropped: readonly string[]
  /** As the adapter answered, or (asked for `raw`) an OpenAI stream as the bytes to send on. */
  readonly outcome: Outcome | { readonly kind: 'bytes'; readonly chunks: AsyncGenerator<Uint8Array> }
}

/**
 * Calls the model a client named, by the catalog: resolve it (404/410), check its provider is
 * configured (503 naming the variable), apply the rules, send it through its provider's
 * adapter, and count the call, its tokens and cost. A stream's usage chunk is stripped again
 * when the client did not ask for it; an error inside a stream becomes an error event.
 */
export async function callModel(gw: Gateway, event: H3Event, api: Api, input: Record<string, unknown>, options: { raw?: boolean } = {}): Promise<Called> {
  if (typeof input.model !== 'string' || input.model === '') throw httpError(400, 'model is required: name a model from GET /v1/models', { code: 'missing_model', param: 'model' })
  const model = gw.resolve(input.model)
  event.context.model = model.id
  const up = gw.upstreams[model.provider]!
  if (up.provider.api_key_env && !up.key) {
    throw httpError(503, `The provider '${up.provider.id}' of the model '${model.id}' is not configured: set ${up.provider.api_key_env}.`, { code: 'provider_not_configured', param: 'model' })
  }
  const { body, dropped } = applyRules(model, api, input, gw.config)
  const stream = body.stream === true && STREAMING.has(api)
  const includeUsage = stream && (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true
  const ex = { model, api, body, stream, includeUsage, signal: event.req.signal, unsupported: gw.config.unsupportedParams }
  let outcome: Outcome
  try {
    outcome = up.provider.protocol === 'anthropic' ? await callAnthropic(ex, up, gw.now) : await callOpenAI(ex, up)
  } catch (error) {
    gw.stats.call(model.id, event.req.signal.aborted ? 'aborted' : 'error')
    throw error
  }
  const allDropped = [...dropped, ...(outcome.dropped ?? [])]
  if (outcome.kind === 'stream' && outcome.raw && options.raw) {
    const chunks = passThrough(gw, model, outcome.raw, includeUsage, up, event.req.signal)
    return { model, dropped: allDropped, outcome: { kind: 'bytes', chunks } }
  }
  if (outcome.kind === 'json') {
    _account(gw, model, outcome.json)
    gw.stats.call(model.id, 'ok')
    return { model, dropped: allDropped, outcome }
  }
  return { model, dropped: allDropped, outcome: { kind: 'stream', events: _accounted(gw, model, outcome.events, includeUsage, event.req.signal) } }
}

// Byte markers of the events the gateway must look at; every other event passes untouched.
const USAGE = Buffer.from('"usage":{')
const ERROR = Buffer.from('"error"')

/**
 * An OpenAI stream passed through as bytes: complete events travel on as they came unless they
 * carry usage (counted, and stripped when the client did not ask) or an error (its key
 * redacted), which are parsed; only those regions are decoded. CR line ends, rare, take the
 * parsing path for the rest of the stream.
 */
export async function* passThrough(gw: Gateway, model: Model, body: AsyncIterable<Uint8Array> & { destroy(): unknown }, includeUsage: boolean, up: Upstream, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const key = up.key
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
      if (complete.includes(USAGE) || complete.includes(ERROR)) yield new SseParser().push(complete)
      else yield [{ data: '', raw: complete } as SseEvent & { raw: Uint8Array }]
    }
    if (pending) yield new SseParser().push(Buffer.concat([pending, Buffer.from('\n\n')]))
  }
  const redacting = async function* (): AsyncGenerator<SseEvent[]> {
    try {
      for await (const batch of parsed()) yield key ? batch.map((e) => (e.data.includes('"error"') ? { ...e, data: redact(e.data, key) } : e)) : batch
    } catch (error) {
      throw upstreamFailure(error, up)
    } finally {
      body.destroy()
    }
  }
  for await (const batch of _accounted(gw, model, redacting(), includeUsage, signal)) {
    const raw = (batch[0] as { raw?: Uint8Array }).raw
    yield raw ?? Buffer.from(batch.map(sseText).join(''))
  }
}

async function* _accounted(gw: Gateway, model: Model, batches: AsyncGenerator<SseEvent[]>, includeUsage: boolean, signal: AbortSignal): AsyncGenerator<SseEvent[]> {
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
    if (usage) _account(gw, model, usage)
    gw.stats.call(model.id, result)
  }
}

// Tokens from an answer's usage (chat, completions, embeddings; the Responses API's input/output
// tokens, also inside a response.completed event) and their cost at the catalog's prices.
function _account(gw: Gateway, model: Model, json: Record<string, unknown>): void {
  const usage = (json.usage ?? (json.response as { usage?: unknown } | undefined)?.usage) as Record<string, any> | undefined
  if (!usage) return
  const prompt = Number(usage.prompt_tokens ?? usage.input_tokens ?? 0)
  const completion = Number(usage.completion_tokens ?? usage.output_tokens ?? 0)
  const cached = Number(usage.prompt_tokens_details?.cached_tokens ?? usage.input_tokens_details?.cached_tokens ?? 0)
  const p = model.pricing
  const cost = p ? ((prompt - cached) * p.input + cached * (p.cached_input ?? p.input) + completion * p.output) / 1e6 : 0
  gw.stats.usage(model.id, prompt, completion, cost)
}
