import { H3 } from 'h3'
import type { H3Event } from 'h3'
import { countMessageTokens, message } from './anthropic.ts'
import { faultyStream, sleep } from './faults.ts'
import type { Fault, Seen } from './faults.ts'
import { chatCompletion, embeddings, moderations, rerank, response, textCompletion } from './openai.ts'

/** What the mock upstream is built with. */
export interface MockOptions {
  /** The models GET /v1/models lists, by id or with the shutdown date it announces. Default: none. */
  readonly models?: readonly (string | MockModel)[]
  /** Keys the mock requires: OpenAI's as a bearer token, Anthropic's as x-api-key. Default: none checked. */
  readonly keys?: { readonly openai?: string; readonly anthropic?: string }
}

/** A model the mock lists, and the day it announces the model shuts down (`null`: none announced). */
export interface MockModel {
  readonly id: string
  readonly shutdown_date?: string | null
}

/** The mock upstream: its h3 app, what it has seen, and faults to apply to coming requests. */
export interface MockUpstream {
  readonly app: H3
  /** Every request the mock received, in order. */
  readonly seen: Seen[]
  /** Queues a fault for the next completion-style request. */
  fail(fault: Fault): void
  /** Applies `fault` to every completion-style request with none queued, until called without one (which also drops the queued faults). */
  failAll(fault?: Fault): void
}

type Body = Record<string, any>
type Generator = (body: Body) => { json: unknown; chunks?: string[] }

/**
 * A deterministic upstream for tests and the demo, speaking OpenAI's API (chat, completions,
 * responses, embeddings, moderations, rerank, models, healthz) and Anthropic's Messages API
 * (and its count_tokens),
 * streamed and not. Same request, same bytes; usage is counted from the text; faults on demand.
 */
export function createMockUpstream(options: MockOptions = {}): MockUpstream {
  const seen: Seen[] = []
  const faults: Fault[] = []
  let standing: Fault | undefined
  const app = new H3({ silent: true })

  const handle = (anthropic: boolean, generate: Generator) => async (event: H3Event) => {
    const body = (await event.req.json().catch(() => null)) as Body | null
    const record: Seen = { method: event.req.method, path: event.url.pathname, headers: Object.fromEntries(event.req.headers), body }
    seen.push(record)
    const node = event.runtime?.node
    const socket = node?.req.socket
    const before = socket?.bytesWritten ?? 0
    if (socket) record.sent = () => socket.bytesWritten - before
    node?.res?.once('close', () => ((record.closed = true), (record.closedAt = performance.now())))
    const refusal = _authProblem(event, anthropic, options)
    if (refusal) return _error(refusal.status, refusal.message, anthropic, refusal.type)
    if (!body || typeof body !== 'object') return _error(400, 'the body must be a JSON object', anthropic)
    if (anthropic && typeof body.max_tokens !== 'number' && !event.url.pathname.endsWith('/count_tokens')) return _error(400, 'max_tokens: Field required', anthropic)
    const fault = faults.shift() ?? standing
    if (fault?.drop) {
      node?.req.socket.resetAndDestroy()
      return new Response(null)
    }
    if (fault?.delayMs) await sleep(fault.delayMs, event.req.signal)
    if (fault?.status) return new Response(fault.raw ?? JSON.stringify(fault.body ?? _errorBody(fault.status, `mock fault: status ${fault.status}`, anthropic)), { status: fault.status, headers: { 'content-type': 'application/json', ...fault.headers } })
    let result: ReturnType<Generator>
    try {
      result = generate(body)
    } catch (error) {
      // A body of the wrong shape: a real API validates it and says so with 400.
      return _error(400, `invalid request body: ${(error as Error).message}`, anthropic)
    }
    if (!body.stream || !result.chunks) return new Response(JSON.stringify(result.json), { headers: { 'content-type': 'application/json' } })
    const reset = () => node?.req.socket.destroy()
    return new Response(faultyStream(result.chunks, fault, reset), { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
  }

  app.get('/healthz', () => ({ status: 'ok' }))
  app.get('/v1/models', (event) => {
    // OpenAI's clients list with their bearer token, Anthropic's with x-api-key: either will do.
    const keys = options.keys
    const bearer = event.req.headers.get('authorization') === `Bearer ${keys?.openai}`
    if (keys && !bearer && event.req.headers.get('x-api-key') !== keys.anthropic) return _error(401, 'Incorrect API key provided', false)
    const models = (options.models ?? []).map((m) => (typeof m === 'string' ? { id: m } : m))
    return { object: 'list', data: models.map((m) => ({ id: m.id, object: 'model', created: 1_700_000_000, owned_by: 'mock', shutdown_date: m.shutdown_date ?? null })) }
  })
  app.post('/v1/chat/completions', handle(false, chatCompletion))
  app.post('/v1/completions', handle(false, textCompletion))
  app.post('/v1/responses', handle(false, response))
  app.post('/v1/embeddings', handle(false, (b) => ({ json: embeddings(b) })))
  app.post('/v1/moderations', handle(false, (b) => ({ json: moderations(b) })))
  app.post('/v1/rerank', handle(false, (b) => ({ json: rerank(b) })))
  app.post('/v1/messages', handle(true, message))
  app.post('/v1/messages/count_tokens', handle(true, countMessageTokens))
  return { app, seen, fail: (fault) => faults.push(fault), failAll: (fault) => ((standing = fault), fault || (faults.length = 0)) }
}

function _authProblem(event: H3Event, anthropic: boolean, options: MockOptions): { status: number; message: string; type: string } | undefined {
  if (anthropic) {
    if (options.keys?.anthropic && event.req.headers.get('x-api-key') !== options.keys.anthropic) return { status: 401, message: 'invalid x-api-key', type: 'authentication_error' }
    if (!event.req.headers.get('anthropic-version')) return { status: 400, message: 'anthropic-version: header is required', type: 'invalid_request_error' }
  } else if (options.keys?.openai && event.req.headers.get('authorization') !== `Bearer ${options.keys.openai}`) {
    return { status: 401, message: 'Incorrect API key provided', type: 'invalid_request_error' }
  }
  return undefined
}

function _errorBody(status: number, message: string, anthropic: boolean, type = status >= 500 ? 'api_error' : 'invalid_request_error'): unknown {
  return anthropic ? { type: 'error', error: { type, message } } : { error: { message, type, param: null, code: null } }
}

function _error(status: number, message: string, anthropic: boolean, type?: string): Response {
  return new Response(JSON.stringify(_errorBody(status, message, anthropic, type)), { status, headers: { 'content-type': 'application/json' } })
}
