import type { Api, Model } from '../catalog/types.ts'
import type { Config } from '../config.ts'
import { httpError } from '../errors.ts'

/** The endpoint of each API, for messages that name the right one. */
export const ENDPOINTS: Readonly<Record<Api, string>> = {
  chat: '/v1/chat/completions',
  completions: '/v1/completions',
  responses: '/v1/responses',
  embeddings: '/v1/embeddings',
  rerank: '/v1/rerank',
  moderations: '/v1/moderations',
}

// Fields that would let a client choose the upstream or its credentials: the catalog decides.
const FORBIDDEN_FIELDS = ['api_base', 'base_url', 'api_key']

/** A request body as the catalog allows it, and what was dropped from it. */
export interface Ruled {
  readonly body: Record<string, unknown>
  /** Parameters removed because the model does not take them (reported in a response header). */
  readonly dropped: readonly string[]
}

/**
 * Applies the catalog to a request before any upstream call: the API must be one the model
 * serves; the output-token limit is renamed to the model's parameter and held to its
 * max_output; reasoning_effort must be one of its efforts; a temperature it does not take is
 * dropped (or rejected with UNSUPPORTED_PARAMS=reject). Errors are 400 with OpenAI's codes.
 * For a fallback (`fallback`), a reasoning effort or temperature it does not take is dropped
 * and reported, never refused: the client chose them for another model.
 */
export function applyRules(model: Model, api: Api, input: Record<string, unknown>, config: Pick<Config, 'unsupportedParams'>, fallback = false): Ruled {
  if (!model.apis.includes(api)) {
    const use = model.apis.map((a) => ENDPOINTS[a]).join(' or ')
    const name = typeof input.model === 'string' ? input.model : model.id // as the client named it
    throw httpError(400, `The model '${name}' does not support ${ENDPOINTS[api]}: use ${use}.`, { code: 'unsupported_api', param: 'model' })
  }
  // Checked here because the gateway acts on them: a truthy non-boolean `stream` would have the
  // upstream stream an answer the gateway reads as one JSON body.
  if (input.stream !== undefined && input.stream !== null && typeof input.stream !== 'boolean') {
    throw httpError(400, `stream must be true or false (got ${JSON.stringify(input.stream)}).`, { code: 'invalid_type', param: 'stream' })
  }
  const options = input.stream_options
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) {
    throw httpError(400, `stream_options must be an object (got ${JSON.stringify(options)}).`, { code: 'invalid_type', param: 'stream_options' })
  }
  for (const field of FORBIDDEN_FIELDS) {
    if (field in input) throw httpError(400, `${field} is not accepted: the gateway chooses the upstream and its credentials from the catalog.`, { code: 'unsupported_parameter', param: field })
  }
  const body = { ...input }
  const dropped: string[] = []
  if (api === 'chat' || api === 'completions' || api === 'responses') {
    _tokenLimit(model, api, body)
    if (_effort(model, api, body, fallback)) dropped.push(api === 'responses' ? 'reasoning.effort' : 'reasoning_effort')
    if (body.temperature !== undefined && body.temperature !== null && model.temperatures && !model.temperatures.includes(body.temperature as number)) {
      if (config.unsupportedParams === 'reject' && !fallback) {
        const only = model.temperatures.length ? `Only the default (${model.temperatures.join(', ')}) value is supported.` : 'This model takes no temperature.'
        throw httpError(400, `Unsupported value: 'temperature' does not support ${JSON.stringify(body.temperature)} with this model. ${only}`, { code: 'unsupported_value', param: 'temperature' })
      }
      delete body.temperature
      dropped.push('temperature')
    }
  }
  return { body, dropped }
}

// The token-limit field the client used, renamed to the model's, and held to max_output.
function _tokenLimit(model: Model, api: Api, body: Record<string, unknown>): void {
  const fields = api === 'responses' ? ['max_output_tokens'] : api === 'completions' ? ['max_tokens'] : ['max_tokens', 'max_completion_tokens']
  for (const field of fields) {
    const value = body[field]
    if (value === undefined || value === null) continue
    if (!Number.isInteger(value) || (value as number) < 1) throw httpError(400, `${field} must be a positive integer (got ${JSON.stringify(value)}).`, { code: 'invalid_value', param: field })
    if (model.max_output !== undefined && (value as number) > model.max_output) {
      throw httpError(400, `${field} is too large: ${value}. This model supports at most ${model.max_output} completion tokens, whereas you provided ${value}.`, { code: 'invalid_value', param: field })
    }
    if (api === 'chat' && model.token_limit_param && field !== model.token_limit_param) {
      delete body[field]
      body[model.token_limit_param] = value
    }
  }
}

// Checks the reasoning effort; for a fallback, one it does not take is removed instead (true).
function _effort(model: Model, api: Api, body: Record<string, unknown>, fallback: boolean): boolean {
  const effort = api === 'responses' ? (body.reasoning as { effort?: unknown } | undefined)?.effort : body.reasoning_effort
  if (effort === undefined || effort === null || model.efforts.includes(effort as never)) return false
  if (fallback) {
    if (api === 'responses') {
      const { effort: _e, ...reasoning } = body.reasoning as Record<string, unknown>
      body.reasoning = reasoning
    } else delete body.reasoning_effort
    return true
  }
  const param = api === 'responses' ? 'reasoning.effort' : 'reasoning_effort'
  const takes = model.efforts.length ? `supported: ${model.efforts.join(', ')}` : 'it takes no reasoning effort'
  throw httpError(400, `Unsupported value: '${param}' does not support ${JSON.stringify(effort)} with the model '${model.id}' (${takes}).`, { code: 'unsupported_value', param })
}
