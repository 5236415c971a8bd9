import type { H3, H3Event } from 'h3'
import type { Model } from '../catalog/types.ts'
import { anthropicError, clientError, httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { clientSignal } from '../client-signal.ts'
import { countTokens } from '../protocols/anthropic.ts'
import { expanded, sseBytes } from '../protocols/sse.ts'
import type { SseEvent } from '../protocols/sse.ts'
import { estimate } from '../policy/limits.ts'
import { callModel } from '../routing/call.ts'
import { resolve, resolvedModel } from '../routing/resolve.ts'
import { callHeaders, reply, streamReply } from '../reply.ts'
import type { StreamFormat } from '../reply.ts'
import { anthropicPage, checkMessagesRequest, toAnthropicModel, toChatRequest, toMessage, toMessageEvents } from './anthropic-translate.ts'
import { jsonObject, route } from './internal/methods.ts'
import type { RequestView } from '../request-view.ts'

/** Anthropic's streams: server-sent events; an error as an `error` event, after which nothing comes. */
export const MESSAGE_EVENTS: StreamFormat = {
  contentType: 'text/event-stream; charset=utf-8',
  error: (e) => `event: error\ndata: ${JSON.stringify(anthropicError(e.status, clientError(e)))}\n\n`,
}

/**
 * The Anthropic dialect (Claude Code and the Anthropic SDKs): POST /v1/messages, streamed and
 * not, and /v1/messages/count_tokens. A model of an `anthropic` provider gets the request as it
 * was sent (after the catalog's rules) and its answer passes through; any other is translated
 * to chat completions and back. The model list in Anthropic's shape is the OpenAI dialect's
 * /v1/models, asked with `anthropic-version` (see `anthropicListing`).
 */
export function anthropicRoutes(app: H3, gw: Gateway): void {
  route(app, '/v1/messages', {
    POST: async (event) => {
      const b = await jsonObject(event, gw.config.maxBodyBytes)
      checkMessagesRequest(b)
      const { body, dropped } = toChatRequest(b)
      const called = await callModel(gw, event, 'chat', body, { native: { body: b, headers: _betaHeaders(event) } })
      const anthropic = called.outcome.format === 'anthropic'
      // Translated, the answer names the model asked for, or the fallback that served.
      const name = event.context.requested ? called.model.id : String(b.model)
      const headers = callHeaders({ model: called.model, dropped: anthropic ? called.dropped : [...dropped, ...called.dropped] }, gw.now())
      const o = called.outcome
      if (o.kind === 'json') return reply(event, anthropic ? o.text : JSON.stringify(toMessage(o.json, name)), headers)
      if (anthropic) return streamReply(event, o.batches, MESSAGE_EVENTS, headers, _bytes)
      return streamReply(event, toMessageEvents(expanded(o.batches), name), MESSAGE_EVENTS, headers)
    },
  }, { dialect: 'anthropic', calls: true })
  route(app, '/v1/messages/count_tokens', {
    POST: async (event) => {
      const b = await jsonObject(event, gw.config.maxBodyBytes)
      checkMessagesRequest(b, true)
      const model = resolvedModel(resolve(gw.catalog, String(b.model), gw.now(), gw.allowed(event)))
      event.context.model = model.id
      const place = gw.deployments.places(model)[0]
      if (!place) throw httpError(503, `The provider '${model.provider}' of the model '${model.id}' is not configured: set ${gw.upstreams[model.provider]!.provider.api_key_env}.`, { code: 'provider_not_configured', param: 'model' })
      if (place.up.provider.protocol === 'anthropic') return reply(event, gw.redactor.text(await countTokens(place.up, place.upstreamId, b, _betaHeaders(event), clientSignal(event))))
      // Other providers have no count: the gateway's estimate (a token per four characters), said so.
      const { max_tokens: _m, ...prompt } = b
      const tokens = estimate({ messages: [prompt.system ?? '', prompt.messages, prompt.tools ?? []] }, model).tokens
      return reply(event, JSON.stringify({ input_tokens: tokens }), { 'x-gateway-estimate': 'characters/4' })
    },
  }, { dialect: 'anthropic' })
}

/**
 * GET /v1/models (and /v1/models/{id}: `model`) in Anthropic's shape, for a request that carries
 * `anthropic-version`: pages by `limit`, `after_id` and `before_id` (the first page, the common
 * case, served from the listing cache).
 */
export function anthropicListing(gw: Gateway, event: RequestView): Response {
  const query = event.url.searchParams
  const build = (models: readonly Model[]) => anthropicPage(models.map((m) => toAnthropicModel(m, gw.now())), query)
  return query.size ? reply(event, JSON.stringify(build(gw.listed(event)))) : gw.listing(event, 'anthropic', build)
}

// The headers of the client's that Anthropic needs: its API version and beta features.
function _betaHeaders(event: H3Event): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of ['anthropic-version', 'anthropic-beta']) {
    const value = event.req.headers.get(name)
    if (value) out[name] = value
  }
  return out
}

// A passed-through stream's batch as bytes: its untouched regions as they came, and the error
// event the hub puts in a stream that failed (OpenAI's shape) in Anthropic's.
function _bytes(batch: SseEvent[]): Uint8Array {
  const failed = batch.find((e) => !e.raw && e.data.startsWith('{"error":'))
  if (!failed) return sseBytes(batch)
  const error = (JSON.parse(failed.data) as { error: { message: string; type: string } }).error
  return Buffer.from(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message: error.message } })}\n\n`)
}
