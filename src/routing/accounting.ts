import { performance } from 'node:perf_hooks' // the global is a getter, run on every read
import { HTTPError } from 'h3'
import type { Model, Pricing } from '../catalog/types.ts'
import { httpError, openaiError } from '../errors.ts'
import type { Feed, Sink } from '../feed.ts'
import type { SseEvent } from '../protocols/sse.ts'
import { statsName } from '../stats.ts'
import type { Arm, CallResult, Stats } from '../stats.ts'
import type { Redactor } from '../redact.ts'
import type { AttemptTrace } from '../tracing.ts'

/** Who a call is counted for: the caller's team, and what to tell its limits once the answer is done (nothing when no usage came). */
export interface Caller {
  readonly team?: string
  /** The weighted alias and the model it gave this caller, when the request named one. */
  readonly arm?: Arm
  /** When the call started and its upstream answered (performance.now()), and the provider that did: for the latency figures. */
  readonly timing?: { readonly started: number; readonly firstByte?: number; readonly provider: string }
  /** The attempt's span (tracing on): ended with the answer. */
  readonly trace?: AttemptTrace
  readonly settle?: (used?: { tokens: number; cost: number }) => Promise<void>
}

/**
 * A stream's events as they pass to the client: the usage it carries is counted once at the end
 * (the last one seen), the usage chunk the gateway asked for is stripped unless the client asked
 * too, a failure becomes an error event (the OpenAI SDK raises it; no [DONE]), and the call is
 * counted as ok, error, aborted when the client left, or truncated when it failed after events
 * had reached the client (or the upstream ended it before its last event). With `redactor`,
 * every key is taken out of what passes.
 */
export async function* accounted(stats: Stats, model: Model, batches: AsyncGenerator<SseEvent[]>, includeUsage: boolean, signal: { readonly aborted: boolean }, caller: Caller = {}, redactor?: Redactor): AsyncGenerator<SseEvent[]> {
  const tally = new StreamTally(stats, model, includeUsage, signal, caller, redactor)
  try {
    for await (const batch of batches) {
      const out = tally.pass(batch)
      if (out) yield out
    }
    tally.ok()
  } catch (error) {
    const event = tally.failed(error)
    if (event) yield event
  } finally {
    await tally.finish()
  }
}

/**
 * The same accounting over a feed (the completion hot path). Its end goes to the client before
 * the call is counted, unless the caller's team has limits to settle: then it waits for them, so
 * that the team's next request sees them as they are.
 */
export function accountedFeed(stats: Stats, model: Model, feed: Feed<SseEvent[]>, includeUsage: boolean, signal: { readonly aborted: boolean }, caller: Caller = {}, redactor?: Redactor): Feed<SseEvent[]> {
  const tally = new StreamTally(stats, model, includeUsage, signal, caller, redactor)
  const end = (sink: Sink<SseEvent[]>) => {
    if (caller.settle) return void tally.finish().then(() => sink.done(), (error: unknown) => sink.fail(error))
    sink.done()
    tally.finish().catch(() => {}) // a failure reaches the pipe through `start`'s promise
  }
  return {
    start(sink) {
      let over = false
      const fail = (error: unknown) => {
        over = true
        const event = tally.failed(error)
        if (event) sink.next(event)
        end(sink)
      }
      return feed.start({
        next(batch) {
          if (over) return
          let out
          try {
            out = tally.pass(batch)
          } catch (error) {
            feed.cancel()
            return fail(error)
          }
          if (out) sink.next(out)
        },
        done() {
          if (over) return
          over = true
          tally.ok()
          end(sink)
        },
        fail(error) {
          if (!over) fail(error)
        },
      }).then(() => tally.finish())
    },
    pause: () => feed.pause(),
    resume: () => feed.resume(),
    cancel: () => feed.cancel(),
  }
}

// One stream's accounting, as its batches pass (see `accounted`).
class StreamTally {
  readonly #stats: Stats
  readonly #model: Model
  readonly #includeUsage: boolean
  readonly #signal: { readonly aborted: boolean }
  readonly #caller: Caller
  readonly #redactor: Redactor | undefined
  #result: CallResult = 'aborted' // until the stream ends one way or the other
  // The usage seen, counted once at the end: some servers (vLLM's continuous usage stats)
  // repeat a running total on every chunk, so the last figures win.
  #usage: Record<string, unknown> | undefined
  #sent = false
  #first: number | undefined // when the first event came
  #finished: Promise<void> | undefined

  constructor(stats: Stats, model: Model, includeUsage: boolean, signal: { readonly aborted: boolean }, caller: Caller, redactor: Redactor | undefined) {
    this.#stats = stats
    this.#model = model
    this.#includeUsage = includeUsage
    this.#signal = signal
    this.#caller = caller
    this.#redactor = redactor
  }

  /** A batch on its way: its usage noted (and stripped unless asked for), keys taken out; undefined when nothing of it is left to send. */
  pass(batch: SseEvent[]): SseEvent[] | undefined {
    this.#first ??= performance.now()
    // An untouched region alone (most of a passed-through stream) carries no usage.
    const out = batch.length === 1 && batch[0]!.raw ? batch : batch.filter((event) => {
      if (!event.data.includes('"usage":{')) return true // raw regions (data '') included
      const json = JSON.parse(event.data) as Record<string, any>
      // Anthropic's usage comes in parts (message_start's input, message_delta's output): merged.
      const part = json.type === 'message_start' ? json.message?.usage : (json.usage ?? json.response?.usage)
      if (part && typeof part === 'object') {
        const usage = (this.#usage ??= {})
        for (const key in part) if (part[key] !== null) usage[key] = part[key]
      }
      // The usage chunk the gateway asked for on the client's behalf: not theirs to see.
      return this.#includeUsage || !Array.isArray(json.choices) || json.choices.length > 0
    })
    if (!out.length) return undefined
    this.#sent = true
    return this.#redactor ? this.#redactor.batch(out) : out
  }

  /** The stream ended as it should. */
  ok(): void {
    this.#result = 'ok'
  }

  /** The stream failed: the error event for the client, or none when the client left or the upstream's own error event went out. */
  failed(error: unknown): SseEvent[] | undefined {
    if (this.#signal.aborted) return undefined
    // The upstream's own error event already went to the client: the stream just ends.
    if (HTTPError.isError(error) && (error.data as { told?: boolean } | undefined)?.told) {
      this.#result = this.#sent ? 'truncated' : 'error'
      return undefined
    }
    // Mid-stream, the status is sent: the error goes in an event the OpenAI SDK raises.
    const e = HTTPError.isError(error) && !error.unhandled ? error : httpError(502, 'the upstream stream failed', { code: 'upstream_error' })
    const body = openaiError(e)
    this.#result = this.#sent || body.code === 'upstream_truncated' ? 'truncated' : 'error'
    const event = { data: JSON.stringify({ error: body }) }
    return [this.#redactor ? this.#redactor.event(event) : event]
  }

  /** Once, however the stream ended: the call counted, its span ended, its latency recorded, the team's limits settled. */
  finish(): Promise<void> {
    return (this.#finished ??= this.#finish())
  }

  async #finish(): Promise<void> {
    const [stats, model, caller, result, first] = [this.#stats, this.#model, this.#caller, this.#result, this.#first]
    const used = this.#usage ? account(stats, model, { usage: this.#usage }, caller) : undefined
    stats.call(statsName(model), result, caller.team, caller.arm)
    if (caller.trace) {
      caller.trace.set({ 'gen_ai.usage.input_tokens': used && used.tokens - used.completion, 'gen_ai.usage.output_tokens': used?.completion, 'gen_ai.server.time_to_first_token': first !== undefined && caller.timing ? (first - caller.timing.started) / 1000 : undefined, 'gateway.result': result })
      if (result === 'error' || result === 'truncated') caller.trace.fail(httpError(502, `the stream ended in an error (${result})`, { code: `stream_${result}` }), `the stream ended in an error (${result})`)
      else caller.trace.end()
    }
    const t = caller.timing
    if (t && result === 'ok' && first !== undefined) {
      const end = performance.now()
      const speed = used?.completion && end > first ? used.completion / ((end - first) / 1000) : undefined
      stats.timing(statsName(model), t.provider, { firstByte: t.firstByte && (t.firstByte - t.started) / 1000, firstToken: (first - t.started) / 1000, total: (end - t.started) / 1000, tokensPerSecond: speed })
    }
    await caller.settle?.(used)
  }
}

/**
 * Counts the tokens of an answer's usage (chat, completions, embeddings; the Responses API's
 * input/output tokens, also inside a response.completed event; Anthropic's, cache reads and
 * writes included, at their prices) and their cost at the catalog's
 * prices, for the caller's team (and weighted alias) too; returns them. A figure that is not a count (negative,
 * fractional, not a number) is left out, and the answer counted as one with invalid usage.
 */
export function account(stats: Stats, model: Model, json: Record<string, unknown>, caller: Caller = {}): { tokens: number; cost: number; completion: number } | undefined {
  const usage = (json.usage ?? (json.response as { usage?: unknown } | undefined)?.usage) as Record<string, any> | undefined
  if (!usage || typeof usage !== 'object') return undefined
  let invalid = false
  const count = (value: unknown): number => {
    if (value === undefined || value === null) return 0
    if (Number.isSafeInteger(value) && (value as number) >= 0) return value as number
    invalid = true
    return 0
  }
  // Anthropic counts cache reads and writes apart from input_tokens; OpenAI's shape (prompt_tokens) within them.
  const anthropic = usage.prompt_tokens === undefined
  const reads = anthropic ? count(usage.cache_read_input_tokens) : 0
  const writes = anthropic ? count(usage.cache_creation_input_tokens) : 0
  const prompt = count(usage.prompt_tokens ?? usage.input_tokens) + reads + writes
  const completion = count(usage.completion_tokens ?? usage.output_tokens)
  const cached = Math.min(prompt, reads || count(usage.prompt_tokens_details?.cached_tokens ?? usage.input_tokens_details?.cached_tokens))
  const p = model.pricing && priceFor(model.pricing, prompt)
  const cost = p ? ((prompt - cached - writes) * p.input + cached * (p.cached_input ?? p.input) + writes * (p.cache_write ?? p.input) + completion * p.output) / 1e6 : 0
  stats.usage(statsName(model), prompt, completion, cost, invalid, caller.team, caller.arm)
  return { tokens: prompt + completion, cost, completion }
}

/** The rates a request with `promptTokens` input tokens pays: the last tier it exceeds, else the base prices. */
export function priceFor(pricing: Pricing, promptTokens: number): Omit<Pricing, 'tiers'> {
  const tier = pricing.tiers?.findLast((t) => promptTokens > t.above_input_tokens)
  return tier ? { input: tier.input, cached_input: tier.cached_input ?? tier.input, output: tier.output } : pricing
}

/** Ends a JSON answer's attempt span with what the GenAI conventions record: the model that answered, the tokens, and with content capture on (`content`: the redactor) the output, keys taken out. */
export function answeredSpan(caller: Caller, json: Record<string, unknown>, used: { tokens: number; completion: number } | undefined, content: false | { text(s: string): string }): void {
  if (!caller.trace) return
  caller.trace.set({
    'gen_ai.response.model': typeof json.model === 'string' ? json.model : undefined,
    'gen_ai.usage.input_tokens': used && used.tokens - used.completion,
    'gen_ai.usage.output_tokens': used?.completion,
    'gen_ai.output.messages': content ? content.text(JSON.stringify((json.choices as { message?: unknown }[] | undefined)?.map((c) => c.message) ?? json.content ?? json.output ?? null)) : undefined,
  })
  caller.trace.end()
}
