import { performance } from 'node:perf_hooks' // the global is a getter, run on every read
import type { H3, H3Event } from 'h3'
import type { Gateway } from '../gateway.ts'
import { expanded } from '../protocols/sse.ts'
import { callModel, requestedModel } from '../routing/call.ts'
import type { Requested } from '../routing/call.ts'
import { resolve, resolvedModel } from '../routing/resolve.ts'
import { httpError } from '../errors.ts'
import { callHeaders, reply, streamReply } from '../reply.ts'
import type { StreamFormat } from '../reply.ts'
import { jsonObject, laneRoute, route } from './internal/methods.ts'
import { fromCompletion, fromEmbeddings, ndjson, ollamaModel, ollamaName, toChatRequest, toOllamaShow, toOllamaTag } from './ollama-translate.ts'

type Json = Record<string, any>

// The Ollama API version whose surface these routes implement (clients gate features on it).
const OLLAMA_API_VERSION = '0.12.0'

// Every route here answers errors as Ollama does.
const OLLAMA = { dialect: 'ollama' } as const
const CALLS = { ...OLLAMA, calls: true } as const

// Ollama's streams: a JSON object a line, an error as `{"error": "..."}`.
const NDJSON: StreamFormat = { contentType: 'application/x-ndjson', error: (e) => `${JSON.stringify({ error: e.message })}\n` }

/**
 * The Ollama dialect: GET /api/version, /api/tags, /api/ps, POST /api/show, and POST /api/chat,
 * /api/generate, /api/embed and the legacy /api/embeddings, which become OpenAI calls of the catalog's model answered in
 * Ollama's shapes: NDJSON streams by default, one object with `"stream": false`; token counts
 * from the upstream's usage, durations from the gateway's clock.
 */
export function ollamaRoutes(app: H3, gw: Gateway): void {
  route(app, '/api/version', { GET: () => ({ version: OLLAMA_API_VERSION }) }, OLLAMA)
  laneRoute(app, '/api/tags', (event) => gw.listing(event, 'ollama', (models) => ({ models: models.map(toOllamaTag) })), OLLAMA)
  route(app, '/api/ps', { GET: () => ({ models: [] }) }, OLLAMA)
  route(app, '/api/show', {
    POST: async (event) => {
      const body = await jsonObject(event, gw.config.maxBodyBytes, false)
      const name = body.model ?? body.name
      if (typeof name !== 'string' || name === '') throw httpError(400, 'model is required', { param: 'model' })
      const r = resolve(gw.catalog, ollamaName(name), gw.now(), gw.allowed(event))
      // Ollama's own words for a model it does not have; a retired one is said as everywhere.
      if ('missing' in r) throw httpError(404, `model '${name}' not found`, { code: 'model_not_found' })
      const model = resolvedModel(r)
      event.context.model = model.id
      return toOllamaShow(model)
    },
  }, OLLAMA)
  route(app, '/api/chat', { POST: async (event) => _chat(gw, event, await jsonObject(event, gw.config.maxBodyBytes, false), 'chat') }, CALLS)
  route(app, '/api/generate', {
    POST: async (event) => {
      const b = await jsonObject(event, gw.config.maxBodyBytes, false)
      // An empty prompt only loads the model in Ollama: here there is nothing to load.
      if (b.prompt === undefined || b.prompt === '') return { model: b.model, created_at: gw.now().toISOString(), response: '', done: true, done_reason: 'load' }
      const messages = [...(b.system ? [{ role: 'system', content: b.system }] : []), { role: 'user', content: b.prompt, images: b.images }]
      return _chat(gw, event, { ...b, messages }, 'generate')
    },
  }, CALLS)
  route(app, '/api/embed', {
    POST: async (event) => {
      const b = await jsonObject(event, gw.config.maxBodyBytes, false)
      const started = performance.now()
      const request = { model: ollamaModel(b.model), input: b.input, ...(b.dimensions ? { dimensions: b.dimensions } : {}) }
      const called = await callModel(gw, event, 'embeddings', request, { requested: _serving(gw, event, request, 'embed') })
      return reply(event, JSON.stringify(fromEmbeddings(called.outcome.kind === 'json' ? called.outcome.json : {}, b.model, started)), callHeaders(called, gw.now()))
    },
  }, CALLS)
  // The legacy embeddings route older Ollama clients call: one `prompt`, one `embedding`.
  route(app, '/api/embeddings', {
    POST: async (event) => {
      const b = await jsonObject(event, gw.config.maxBodyBytes, false)
      if (typeof b.prompt !== 'string') throw httpError(400, 'prompt is required (a string)', { param: 'prompt' })
      const request = { model: ollamaModel(b.model), input: b.prompt }
      const called = await callModel(gw, event, 'embeddings', request, { requested: _serving(gw, event, request, 'embeddings') })
      const data = called.outcome.kind === 'json' ? (called.outcome.json.data as { embedding?: unknown }[] | undefined) : undefined
      return reply(event, JSON.stringify({ embedding: data?.[0]?.embedding ?? [] }), callHeaders(called, gw.now()))
    },
  }, CALLS)
}

// The request's model, once it is known to serve what the route does; else Ollama's words for it
// (`"name" does not support chat`), not the OpenAI dialect's advice about /v1 endpoints.
function _serving(gw: Gateway, event: H3Event, request: Json, action: string): Requested {
  const requested = requestedModel(gw, event, request)
  const api = action === 'embed' || action === 'embeddings' ? 'embeddings' : 'chat'
  if (!requested.model.apis.includes(api)) throw httpError(400, `"${request.model}" does not support ${action}`, { code: 'unsupported_api', param: 'model' })
  return requested
}

async function _chat(gw: Gateway, event: H3Event, b: Json, shape: 'chat' | 'generate'): Promise<Response> {
  const started = performance.now()
  const request = toChatRequest(b)
  const called = await callModel(gw, event, 'chat', request, { requested: _serving(gw, event, request, shape) })
  const headers = callHeaders(called, gw.now())
  const frame = { model: b.model, shape, now: gw.now }
  if (called.outcome.kind === 'json') return reply(event, JSON.stringify(fromCompletion(called.outcome.json, frame, started)), headers)
  return streamReply(event, ndjson(expanded(called.outcome.batches), frame, started), NDJSON, headers)
}
