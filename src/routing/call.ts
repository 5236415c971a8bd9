import type { H3Event } from 'h3'
import { CONTROL_CHARACTERS } from '../catalog/lookup.ts'
import type { Api, Model } from '../catalog/types.ts'
import { httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { callAnthropic } from '../protocols/anthropic.ts'
import { callOpenAI } from '../protocols/openai.ts'
import type { Outcome } from '../protocols/types.ts'
import { statsName } from '../stats.ts'
import { estimate } from '../policy/limits.ts'
import { account, accounted } from './accounting.ts'
import type { Caller } from './accounting.ts'
import { resolve, resolvedModel } from './resolve.ts'
import { applyRules } from './rules.ts'

// APIs that stream when asked to.
const STREAMING: ReadonlySet<Api> = new Set(['chat', 'completions', 'responses'])

/** A call's model, the parameters dropped on the way, and the upstream's answer. */
export interface Called {
  readonly model: Model
  readonly dropped: readonly string[]
  /** As the adapter answered: a JSON body, or the stream's batches (an OpenAI upstream's untouched regions `raw`). */
  readonly outcome: Outcome
}

/**
 * Calls the model a client named, by the catalog: resolve it (404/410), check its provider is
 * configured (503 naming the variable), apply the rules, send it through its provider's
 * adapter, and count the call, its tokens and cost. A stream's usage chunk is stripped again
 * when the client did not ask for it; an error inside a stream becomes an error event. What the
 * upstream answered leaves here with every provider key taken out (`gw.redactor`): bodies,
 * events (names too) and bytes alike.
 */
export async function callModel(gw: Gateway, event: H3Event, api: Api, input: Record<string, unknown>): Promise<Called> {
  if (typeof input.model !== 'string' || input.model === '') throw httpError(400, 'model is required: name a model from GET /v1/models', { code: 'missing_model', param: 'model' })
  if (CONTROL_CHARACTERS.test(input.model)) throw httpError(400, 'model contains control characters (CR, LF, NUL...): no model id has them', { code: 'invalid_model_id', param: 'model' })
  const model = resolvedModel(resolve(gw.catalog, input.model, gw.now(), gw.allowed(event)))
  event.context.model = model.id
  const team = event.context.team
  const up = gw.upstreams[model.provider]!
  if (up.provider.api_key_env && !up.key) {
    throw httpError(503, `The provider '${up.provider.id}' of the model '${model.id}' is not configured: set ${up.provider.api_key_env}.`, { code: 'provider_not_configured', param: 'model' })
  }
  const { body, dropped } = applyRules(model, api, input, gw.config)
  const stream = body.stream === true && STREAMING.has(api)
  const includeUsage = stream && (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true
  const ex = { model, api, body, stream, includeUsage, signal: event.req.signal, unsupported: gw.config.unsupportedParams }
  // The team's limits, drawn before the upstream call (429 over one) and put right after it.
  const reservation = team && (await gw.limits.reserve(team, model, estimate(body, model)))
  if (reservation) Object.assign((event.context.headers ??= {}), reservation.headers)
  const caller: Caller = { team: team?.id, settle: reservation ? (used) => gw.limits.settle(reservation, used) : undefined }
  let outcome: Outcome
  try {
    outcome = up.provider.protocol === 'anthropic' ? await callAnthropic(ex, up, gw.now) : await callOpenAI(ex, up)
  } catch (error) {
    await caller.settle?.({ tokens: 0, cost: 0 }) // no answer: nothing used
    gw.stats.call(statsName(model), event.req.signal.aborted ? 'aborted' : 'error', caller.team)
    throw error
  }
  const allDropped = [...dropped, ...(outcome.dropped ?? [])]
  const { redactor, stats } = gw
  if (outcome.kind === 'json') {
    const used = account(stats, model, outcome.json, caller.team)
    await caller.settle?.(used)
    stats.call(statsName(model), 'ok', caller.team)
    const text = redactor.text(outcome.text)
    return { model, dropped: allDropped, outcome: text === outcome.text ? outcome : { kind: 'json', text, json: JSON.parse(text) as Record<string, unknown> } }
  }
  return { model, dropped: allDropped, outcome: { kind: 'stream', batches: redactor.batches(accounted(stats, model, outcome.batches, includeUsage, event.req.signal, caller)) } }
}
