import type { IncomingMessage } from 'node:http'
import { HTTPError } from 'h3'
import type { H3, H3Event, H3Route, H3RouteMeta } from 'h3'
import { CONTROL_CHARACTERS } from '../../catalog/lookup.ts'
import { httpError } from '../../errors.ts'
import type { Dialect } from '../errors.ts'
import type { RequestView } from '../../request-view.ts'
import type { LaneRoute } from '../../lane.ts'

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
type Handler = (event: H3Event) => unknown

declare module 'h3' {
  interface H3RouteMeta {
    /** How the route's clients expect errors (see renderError). */
    readonly dialect?: Dialect
    /** Which methods are admin actions (`all`, or `writes`: all but GET and HEAD): never open to other origins. */
    readonly admin?: 'all' | 'writes'
    /** Answered without a client key (health checks, the dashboard's page and assets). */
    readonly public?: boolean
    /** Calls a model: a team's limits are drawn there, and its answer carries them. */
    readonly calls?: boolean
  }
}

/** What a route declares beside its handlers; the steps read it from the matched route. */
export interface RouteOptions extends H3RouteMeta {
  /** The message of the 405 for other methods. Default: which methods to use. */
  readonly refusal?: string
}

/**
 * Registers `handlers` by method on `path`, declaring its dialect (default OpenAI's), which of
 * its methods are admin actions and whether it is public, for the steps that run before it
 * (CORS, client auth) and for the error renderer. Any other method gets 405 with `Allow`; HEAD
 * is answered as GET without a body.
 */
export function route(app: H3, path: string, handlers: Partial<Record<Method, Handler>>, options: RouteOptions = {}): H3Route {
  const { refusal, ...declared } = options
  const allow = [...Object.keys(handlers), ...(handlers.GET ? ['HEAD'] : [])].join(', ')
  const handler = (event: H3Event) => {
    const method = event.req.method === 'HEAD' ? 'GET' : event.req.method
    const handler = handlers[method as Method]
    if (!handler) throw httpError(405, refusal ?? `${event.req.method} is not allowed here; use ${allow}`, { code: 'method_not_allowed', headers: { allow } })
    return handler(event)
  }
  const meta: H3RouteMeta = { dialect: 'openai', ...declared }
  app.all(path, handler, { meta })
  return { route: path, handler, meta }
}

// Each app's lane routes, by path.
const LANE_ROUTES = new WeakMap<H3, Map<string, LaneRoute>>()

/**
 * A GET route (as `route` registers it) whose handler reads no more of its request than a
 * RequestView holds and answers at once, without awaiting: the listings' lane (src/lane.ts) may
 * answer it without h3. The path is a static one.
 */
export function laneRoute(app: H3, path: string, GET: (event: RequestView) => Response, options: RouteOptions = {}): void {
  const matched = route(app, path, { GET }, options)
  let routes = LANE_ROUTES.get(app)
  if (!routes) LANE_ROUTES.set(app, (routes = new Map()))
  routes.set(path, { matched, GET })
}

/** The app's lane routes, by path. */
export function laneRoutes(app: H3): ReadonlyMap<string, LaneRoute> {
  return LANE_ROUTES.get(app) ?? new Map()
}

/** The 404 of every path no route serves, under /api in Ollama's dialect and elsewhere in OpenAI's. Registered last. */
export function notFoundRoutes(app: H3): void {
  const notFound = (event: H3Event) => {
    throw httpError(404, `no route for ${event.req.method} ${event.url.pathname}`, { code: 'not_found' })
  }
  app.all('/api/**', notFound, { meta: { dialect: 'ollama' } })
  app.all('/**', notFound, { meta: { dialect: 'openai' } })
}

// How deep a request body's JSON may nest: far beyond any real request (tool schemas included),
// far below what would overflow the stack of the code that walks or re-serialises it.
const MAX_DEPTH = 100

/**
 * The request's JSON body as an object; 413 past `limit` bytes (declared or counted, before
 * reading further; the connection then closes, the rest unread), 415 for another content type
 * when `strictType` (Ollama's clients send none), 400 for anything that is not a JSON object or
 * nests deeper than 100 levels (naming the field), 499 when the client left mid-body.
 */
export async function jsonObject(event: H3Event, limit: number, strictType = true): Promise<Record<string, unknown>> {
  const type = event.req.headers.get('content-type') ?? ''
  if (strictType && !/^application\/json\s*(;|$)/i.test(type)) throw httpError(415, `send the body as JSON with Content-Type: application/json (got ${type ? JSON.stringify(type) : 'none'})`, { code: 'unsupported_media_type' })
  const declared = event.req.headers.get('content-length')
  if (Number(declared ?? 0) > limit) throw _tooLarge(limit)
  const node = event.runtime?.node?.req
  const bytes = node ? await _readNode(node as IncomingMessage, limit, declared ? Number(declared) : undefined) : await _readWeb(event.req.body, limit)
  let body: unknown
  try {
    body = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw httpError(400, `the body is not valid JSON: ${(error as Error).message}`, { code: 'invalid_json' })
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw httpError(400, 'the body must be a JSON object', { code: 'invalid_json' })
  // One walk of the whole body; the field is looked for only when it is too deep.
  if (_deeperThan(body, MAX_DEPTH)) {
    const [field] = Object.entries(body).find(([, value]) => _deeperThan(value, MAX_DEPTH - 1))!
    throw httpError(400, `${field} nests deeper than ${MAX_DEPTH} levels`, { code: 'invalid_json', param: field })
  }
  return body as Record<string, unknown>
}

function _tooLarge(limit: number) {
  // The rest of the body stays unread: the connection cannot carry another request.
  return httpError(413, `the request body is larger than ${limit} bytes (MAX_BODY_BYTES)`, { code: 'request_too_large', headers: { connection: 'close' } })
}

function _clientLeft() {
  return httpError(499, 'the client closed the connection before its request body was complete', { code: 'client_closed_request' })
}

// Node's own request stream: much cheaper than its web-stream wrapper. Past the limit it stops
// listening without destroying the request, so the 413 still goes out on its socket. A body of a
// declared length is whole with its last byte (Node reads no more than it declares), two ticks
// of the event loop before its `end`.
function _readNode(req: IncomingMessage, limit: number, declared: number | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = () => {
      req.off('data', data)
      req.off('end', end)
      req.off('close', close)
    }
    const data = (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > limit) {
        stop()
        return reject(_tooLarge(limit))
      }
      chunks.push(chunk)
      if (size === declared) end()
    }
    const end = () => (stop(), resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
    // Closed before the whole body came: the client left (perhaps before this began to read),
    // or Node ended a request past REQUEST_TIMEOUT_MS (it has answered 408 itself).
    const close = () => {
      stop()
      const timedOut = (req.socket as { errored?: { code?: string } } | null)?.errored?.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      reject(timedOut ? httpError(408, 'the request did not arrive in time (REQUEST_TIMEOUT_MS)', { code: 'request_timeout' }) : _clientLeft())
    }
    if (req.destroyed) return close()
    req.on('data', data)
    req.on('end', end)
    req.on('close', close)
  })
}

async function _readWeb(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of body ?? []) {
      size += chunk.byteLength
      if (size > limit) throw _tooLarge(limit)
      chunks.push(chunk)
    }
  } catch (error) {
    throw HTTPError.isError(error) ? error : _clientLeft()
  }
  return Buffer.concat(chunks)
}

// Whether `value` holds containers more than `depth` levels down, walked without recursion.
function _deeperThan(value: unknown, depth: number): boolean {
  let level: unknown[] = [value]
  for (let d = 0; level.length; d++) {
    const next: unknown[] = []
    for (const v of level) {
      if (!v || typeof v !== 'object') continue
      if (d > depth) return true
      // Arrays by index, objects by key: no array of values made for each (JSON's objects have only their own keys).
      if (Array.isArray(v)) for (const child of v) _container(child, next)
      else for (const key in v) _container((v as Record<string, unknown>)[key], next)
    }
    level = next
  }
  return false
}

function _container(value: unknown, into: unknown[]): void {
  if (value && typeof value === 'object') into.push(value)
}

/** Decodes a path parameter that may hold `%2F`-encoded slashes; 400 on bad encoding or control characters. */
export function pathId(raw: string | undefined): string {
  let id: string
  try {
    id = decodeURIComponent(raw ?? '')
  } catch {
    throw httpError(400, `the model id in the path is not valid percent-encoding: ${JSON.stringify(raw)}`, { code: 'invalid_model_id', param: 'model' })
  }
  if (CONTROL_CHARACTERS.test(id)) throw httpError(400, 'the model id contains control characters', { code: 'invalid_model_id', param: 'model' })
  return id
}
