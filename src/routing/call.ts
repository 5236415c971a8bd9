import { performance } from 'node:perf_hooks' // the global is a getter, run on every read
import type { H3Event } from 'h3'
import { CONTROL_CHARACTERS } from '../catalog/lookup.ts'
import type { Api, Model } from '../catalog/types.ts'
import { httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { callAnthropic } from '../protocols/anthropic.ts'
import { callOpenAI } from '../protocols/openai.ts'
import type { SseEvent } from '../protocols/sse.ts'
import type { Outcome } from '../protocols/types.ts'
import type { AttemptTrace } from '../tracing.ts'
import { statsName } from '../stats.ts'
import type { Arm } from '../stats.ts'
import { estimate } from '../policy/limits.ts'
import { worthTryingElsewhere } from '../transport/client.ts'
import type { Signal } from '../transport/client.ts'
import { clientSignal } from '../client-signal.ts'
import { account, accounted, accountedFeed, answeredSpan } from './accounting.ts'
import type { Caller } from './accounting.ts'
import type { Place } from './deployments.ts'
import { resolve, resolvedModel } from './resolve.ts'
import { applyRules } from './rules.ts'
import { armFor } from './split.ts'

// APIs that stream when asked to.
const STREAMING: ReadonlySet<Api> = new Set(['chat', 'completions', 'responses'])

/** A call's model (the one that served it: a fallback's, when one did), the parameters dropped on the way, and the upstream's answer. */
export interface Called {
  readonly model: Model
  readonly dropped: readonly string[]
  /** As the adapter answered: a JSON body, or the stream's batches (an OpenAI upstream's untouched regions `raw`). */
  readonly outcome: Outcome
}

/** What a dialect may already know of a call: the model it resolved (`requestedModel`), and a Messages request as sent. */
export interface CallOptions {
  readonly requested?: Requested
  readonly native?: Native
}

/** The model a request names, and the arm of the weighted alias that gave it. */
export interface Requested {
  readonly model: Model
  readonly arm?: Arm
}

/** A Messages API request as its client sent it, beside its chat translation (`input`): what `anthropic` providers receive. */
export interface Native {
  readonly body: Record<string, unknown>
  /** The client's `anthropic-version` and `anthropic-beta`, passed on. */
  readonly headers: Readonly<Record<string, string>>
}

// A model the request may go to, with the request as that model's rules shape it.
interface Candidate {
  readonly model: Model
  readonly body: Record<string, unknown>
  readonly dropped: readonly string[]
}

/**
 * Calls the model a client named, by the catalog: resolve it (a weighted alias to the caller's
 * model; 404/410), apply the rules, then try its deployments (spread by weight, cooling ones
 * skipped) and after them its fallbacks, each through its provider's adapter, until one answers;
 * count the call, its tokens and cost. Another place is tried only for a failure worth it
 * (`worthTryingElsewhere`) and only before any byte reached the client: a stream that could
 * still go elsewhere is answered once its first event came. A stream's usage chunk is stripped
 * again when the client did not ask for it; an error inside a stream becomes an error event.
 * What the upstream answered leaves here with every provider key taken out (`gw.redactor`).
 */
export async function callModel(gw: Gateway, event: H3Event, api: Api, input: Record<string, unknown>, options: CallOptions = {}): Promise<Called> {
  const { native } = options
  const { model, arm } = options.requested ?? requestedModel(gw, event, input)
  const allowed = gw.allowed(event)
  event.context.model = model.id
  const team = event.context.team
  const fallbacks = Boolean(model.fallbacks?.length)
  if (!fallbacks && !gw.deployments.places(model).length) _notConfigured(gw, model)
  const ruled = applyRules(model, api, input, gw.config)
  const primary: Candidate = { model, body: ruled.body, dropped: ruled.dropped }
  const stream = primary.body.stream === true && STREAMING.has(api)
  const includeUsage = stream && (primary.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true
  // The team's limits, drawn before the upstream call (429 over one) and put right after it.
  const reservation = team && (await gw.limits.reserve(team, model, estimate(primary.body, model)))
  if (reservation) Object.assign((event.context.headers ??= {}), reservation.headers)
  const caller: Caller = { team: team?.id, arm, settle: reservation ? (used) => gw.limits.settle(reservation, used) : undefined }
  const signal = clientSignal(event)
  const started = performance.now()
  let failure: unknown
  let attempted = false
  let final = false // the answer is this failure: the client left, or the request itself was refused
  // First every place not cooling down; only when all of them are, every place in order.
  for (const coolingToo of [false, true]) {
    for (const c of _candidates(gw, primary, api, input, allowed)) {
      const all = gw.deployments.places(c.model)
      const places = coolingToo ? all : all.filter((p) => !gw.cooldowns.cooling(p.key))
      const ordered = gw.deployments.order(statsName(c.model), places)
      for (let i = 0; i < ordered.length; i++) {
        const place = ordered[i]!
        attempted = true
        try {
          const trace = event.context.trace?.attempt(`${OPERATIONS[api] ?? api} ${c.model.id}`, _spanAttributes(gw, c, place, api, stream))
          const { outcome, firstByte } = await _attempt(gw, c, place, api, stream, includeUsage, signal, fallbacks || i < places.length - 1, native, trace)
          gw.cooldowns.succeeded(place.key)
          if (c.model !== model) {
            gw.stats.fallback(statsName(model), c.model.id)
            event.context.requested = model.id
            event.context.model = c.model.id
          }
          const timing = { started, firstByte, provider: place.up.provider.id }
          const answered: Caller = { team: caller.team, arm: caller.arm, settle: caller.settle, timing, trace }
          return _answered(gw, c, outcome.dropped?.length ? [...c.dropped, ...outcome.dropped] : c.dropped, outcome, includeUsage, signal, answered)
        } catch (error) {
          if (!worthTryingElsewhere(error)) {
            // A fallback that refuses the request (its adapter, its upstream) is passed over:
            // the answer stays the failure before it (or is this, when none came before). The
            // primary's refusal is the answer.
            if (c !== primary && !signal.aborted) {
              failure ??= error
              break
            }
            ;[failure, final] = [error, true]
            break
          }
          failure = error
          if (signal.aborted) {
            final = true
            break
          }
          if (gw.cooldowns.failed(place.key, place.up.provider)) gw.stats.cooldown(place.key)
        }
      }
      if (final) break
    }
    if (attempted) break
  }
  await caller.settle?.({ tokens: 0, cost: 0 }) // no answer: nothing used
  if (!attempted) _notConfigured(gw, model)
  gw.stats.call(statsName(model), signal.aborted ? 'aborted' : 'error', caller.team, arm)
  throw failure
}

/**
 * The model a request names, as the caller may call it now (400 without one, 404, 410): a
 * weighted alias gives the caller's arm (`arm`).
 */
export function requestedModel(gw: Gateway, event: H3Event, input: Record<string, unknown>): Requested {
  if (typeof input.model !== 'string' || input.model === '') throw httpError(400, 'model is required: name a model from GET /v1/models', { code: 'missing_model', param: 'model' })
  if (CONTROL_CHARACTERS.test(input.model)) throw httpError(400, 'model contains control characters (CR, LF, NUL...): no model id has them', { code: 'invalid_model_id', param: 'model' })
  const weighted = Object.hasOwn(gw.catalog.weighted_aliases, input.model) ? gw.catalog.weighted_aliases[input.model] : undefined
  const arm = weighted && { alias: input.model, model: armFor(input.model, weighted, event, input) }
  return { model: resolvedModel(resolve(gw.catalog, arm ? arm.model : input.model, gw.now(), gw.allowed(event))), arm }
}

// 503 naming the key of the model's first place that lacks one.
function _notConfigured(gw: Gateway, model: Model): never {
  const unkeyed = (model.deployments ?? [model]).map((d) => gw.upstreams[d.provider]!).find((u) => u.provider.api_key_env && !u.key)
  const provider = (unkeyed ?? gw.upstreams[model.provider]!).provider
  throw httpError(503, `The provider '${provider.id}' of the model '${model.id}' is not configured: set ${provider.api_key_env}.`, { code: 'provider_not_configured', param: 'model' })
}

// The primary, then its fallbacks in order, each followed by its own (depth first, each model
// once): those the caller may use now, that serve this API and take the request.
function* _candidates(gw: Gateway, primary: Candidate, api: Api, input: Record<string, unknown>, allowed: ((m: Model) => boolean) | undefined): Generator<Candidate> {
  yield primary
  const seen = new Set([primary.model.id])
  const pending = [...(primary.model.fallbacks ?? [])]
  while (pending.length) {
    const id = pending.shift()!
    if (seen.has(id)) continue
    seen.add(id)
    const r = resolve(gw.catalog, id, gw.now(), allowed)
    if (!('model' in r)) continue
    pending.unshift(...(r.model.fallbacks ?? []))
    if (!r.model.apis.includes(api)) continue
    let ruled
    try {
      ruled = applyRules(r.model, api, { ...input, model: id }, gw.config, true)
    } catch {
      continue // the request does not fit it (a token limit above its max output)
    }
    yield { model: r.model, body: ruled.body, dropped: ruled.dropped }
  }
}

// One call at one place; a stream that could still go elsewhere (`more`) waits for its first event.
// An Anthropic place gets a Messages request as it was sent (`native`), what the rules dropped removed.
// `firstByte`: when (performance.now()) the upstream's answer came. A failure ends the attempt's span.
async function _attempt(gw: Gateway, c: Candidate, place: Place, api: Api, stream: boolean, includeUsage: boolean, signal: Signal, more: boolean, native: Native | undefined, trace: AttemptTrace | undefined): Promise<{ outcome: Outcome; firstByte?: number }> {
  const anthropic = place.up.provider.protocol === 'anthropic'
  let firstByte: number | undefined
  const ex = {
    model: c.model, upstreamId: place.upstreamId, api, body: c.body, stream, includeUsage, signal, unsupported: gw.config.unsupportedParams,
    onRetry: () => gw.stats.retry(place.key),
    onHeaders: () => (firstByte = performance.now()),
    native: anthropic && native ? { ...native, dropped: c.dropped } : undefined,
    traceHeaders: trace?.headers,
  }
  try {
    const outcome = anthropic ? await callAnthropic(ex, place.up, gw.now) : await callOpenAI(ex, place.up)
    return { outcome: outcome.kind === 'stream' && more ? { ...outcome, batches: await _started(outcome.batches), feed: undefined } : outcome, firstByte }
  } catch (error) {
    trace?.fail(error, gw.redactor.text((error as Error | undefined)?.message ?? ''))
    throw error
  }
}

// The upstream's host and port, once per base URL.
const servers = new Map<string, { 'server.address': string; 'server.port': number }>()
function _server(baseUrl: string) {
  let s = servers.get(baseUrl)
  if (!s) {
    const url = new URL(baseUrl)
    servers.set(baseUrl, (s = { 'server.address': url.hostname, 'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)) }))
  }
  return s
}

// GenAI semantic conventions' operation names, by API.
const OPERATIONS: Partial<Record<Api, string>> = { chat: 'chat', responses: 'chat', completions: 'text_completion', embeddings: 'embeddings' }

// An attempt span's attributes (the GenAI conventions'): never a prompt unless content capture is on.
function _spanAttributes(gw: Gateway, c: Candidate, place: Place, api: Api, stream: boolean): Record<string, string | number | boolean> {
  const p = place.up.provider
  return {
    'gen_ai.operation.name': OPERATIONS[api] ?? api,
    'gen_ai.provider.name': p.protocol === 'anthropic' ? 'anthropic' : p.id,
    'gen_ai.request.model': c.model.id,
    'gen_ai.request.stream': stream,
    ..._server(place.up.baseUrl),
    'gateway.deployment': place.key,
    ...(gw.tracing.content && { 'gen_ai.input.messages': gw.redactor.text(JSON.stringify(c.body.messages ?? c.body.input ?? c.body.prompt ?? null)) }),
  }
}

// A stream whose first batch has come (its failure before that thrown here), that batch held
// for the reader; returning it returns the stream, read or not.
async function _started(batches: AsyncGenerator<SseEvent[]>): Promise<AsyncGenerator<SseEvent[]>> {
  let held: IteratorResult<SseEvent[]> | undefined = await batches.next()
  const started: AsyncGenerator<SseEvent[]> = {
    next: () => {
      const first = held
      held = undefined
      return first ? Promise.resolve(first) : batches.next()
    },
    return: (value) => ((held = undefined), batches.return(value)),
    throw: (error) => ((held = undefined), batches.throw(error)),
    [Symbol.asyncIterator]: () => started,
  }
  return started
}

// An answer on its way to the client: counted, keys taken out.
async function _answered(gw: Gateway, c: Candidate, dropped: readonly string[], outcome: Outcome, includeUsage: boolean, signal: Signal, caller: Caller): Promise<Called> {
  const { redactor, stats } = gw
  const model = c.model
  if (outcome.kind === 'json') {
    const used = account(stats, model, outcome.json, caller)
    await caller.settle?.(used)
    stats.call(statsName(model), 'ok', caller.team, caller.arm)
    answeredSpan(caller, outcome.json, used, gw.tracing.content && gw.redactor)
    const t = caller.timing
    if (t) stats.timing(statsName(model), t.provider, { firstByte: t.firstByte && (t.firstByte - t.started) / 1000, total: (performance.now() - t.started) / 1000 })
    const text = redactor.text(outcome.text)
    return { model, dropped, outcome: text === outcome.text ? outcome : { ...outcome, text, json: JSON.parse(text) as Record<string, unknown> } }
  }
  const { batches, feed } = outcome
  const stream = { kind: 'stream' as const, batches: accounted(stats, model, batches, includeUsage, signal, caller, redactor), feed: feed && accountedFeed(stats, model, feed, includeUsage, signal, caller, redactor), dropped: outcome.dropped, format: outcome.format }
  return { model, dropped, outcome: stream }
}
