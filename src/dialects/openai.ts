import type { H3, H3Event } from 'h3'
import { getRouterParam } from 'h3'
import type { Api, Model } from '../catalog/types.ts'
import { openaiError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { expanded, sseBytes } from '../protocols/sse.ts'
import { callModel, requestedModel } from '../routing/call.ts'
import type { Requested } from '../routing/call.ts'
import { resolve, resolvedModel } from '../routing/resolve.ts'
import { ENDPOINTS } from '../routing/rules.ts'
import { callHeaders, deprecationHeaders, reply, streamReply } from '../reply.ts'
import type { StreamFormat } from '../reply.ts'
import { anthropicListing } from './anthropic.ts'
import { responsesTranslated, toChatFromResponses, toResponse, toResponseEvents } from './responses-translate.ts'
import { toAnthropicModel } from './anthropic-translate.ts'
import { jsonObject, laneRoute, pathId, route } from './internal/methods.ts'

/**
 * OpenAI's model object: `created` from the catalog's release date, `owned_by` from the model,
 * `shutdown_date` the catalog's sunset (`YYYY-MM-DD`), `null` when it records none.
 */
export function toOpenAIModel(m: Model) {
  return {
    id: m.id,
    object: 'model',
    created: m.released ? Date.parse(`${m.released}T00:00:00Z`) / 1000 : 0,
    owned_by: m.owned_by,
    shutdown_date: m.deprecation?.sunset ?? null,
  }
}

/** OpenAI's streams: server-sent events, an error as an event the OpenAI SDK raises (no [DONE]). */
export const SSE: StreamFormat = { contentType: 'text/event-stream; charset=utf-8', error: (e) => `data: ${JSON.stringify({ error: openaiError(e) })}\n\n` }

/**
 * The OpenAI dialect: GET /v1/models and /v1/models/{id} (ids with `/` and `:`, raw or
 * `%2F`-encoded), and POST /v1/chat/completions, /v1/completions, /v1/responses,
 * /v1/embeddings, /v1/moderations, /v1/rerank (streams as server-sent events).
 */
export function openaiRoutes(app: H3, gw: Gateway): void {
  // Asked with `anthropic-version` (only Anthropic's clients send it), the models are in Anthropic's shape.
  laneRoute(app, '/v1/models', (event) => (event.req.headers.has('anthropic-version') ? anthropicListing(gw, event) : gw.listing(event, 'openai', (models) => ({ object: 'list', data: models.map(toOpenAIModel) }))))
  route(app, '/v1/models/**:id', {
    GET: (event) => {
      const name = pathId(getRouterParam(event, 'id'))
      const model = resolvedModel(resolve(gw.catalog, name, gw.now(), gw.allowed(event)))
      event.context.model = model.id
      // An alias answers under the name asked for, as OpenAI's own aliases do.
      const body = event.req.headers.has('anthropic-version') ? toAnthropicModel({ ...model, id: name }, gw.now()) : { ...toOpenAIModel(model), id: name }
      return reply(event, JSON.stringify(body), deprecationHeaders(model, gw.now()))
    },
  })
  for (const api of Object.keys(ENDPOINTS) as Api[]) {
    route(app, ENDPOINTS[api], {
      POST: async (event: H3Event) => {
        const body = await jsonObject(event, gw.config.maxBodyBytes)
        const requested = api === 'responses' ? requestedModel(gw, event, body) : undefined
        if (requested && responsesTranslated(requested.model)) return _responses(gw, event, body, requested)
        const called = await callModel(gw, event, api, body, { requested })
        const headers = callHeaders(called, gw.now())
        const o = called.outcome
        if (o.kind === 'json') return reply(event, o.text, headers)
        return streamReply(event, o.feed ?? o.batches, SSE, headers, sseBytes)
      },
    }, { calls: true })
  }
}

// /v1/responses for a model that serves chat only: translated there and back.
async function _responses(gw: Gateway, event: H3Event, b: Record<string, unknown>, requested: Requested): Promise<Response> {
  const { body, dropped } = toChatFromResponses(b)
  const called = await callModel(gw, event, 'chat', body, { requested })
  const name = event.context.requested ? called.model.id : String(b.model)
  const headers = callHeaders({ model: called.model, dropped: [...dropped, ...called.dropped] }, gw.now())
  const created = Math.floor(gw.now().getTime() / 1000)
  const o = called.outcome
  if (o.kind === 'json') return reply(event, JSON.stringify(toResponse(o.json, name, created)), headers)
  return streamReply(event, toResponseEvents(expanded(o.batches), name, created), SSE, headers)
}
