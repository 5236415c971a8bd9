import { randomUUID } from 'node:crypto'
import { H3 } from 'h3'
import type { H3Event } from 'h3'
import { bearer, oneOf } from './policy/keys.ts'
import type { Catalog } from './catalog/types.ts'
import type { Env } from './catalog/visibility.ts'
import { loadConfig } from './config.ts'
import { corsAccess, corsHeaders } from './steps/cors.ts'
import type { CorsAccess } from './steps/cors.ts'
import { httpError, renderError } from './errors.ts'
import { Redactor } from './redact.ts'
import { reply } from './reply.ts'
import { createGateway } from './gateway.ts'
import type { Gateway } from './gateway.ts'
import { adminRoutes } from './dialects/admin.ts'
import { DASHBOARD_PATHS, dashboardRoutes } from './dialects/dashboard.ts'
import { inferenceRoutes } from './dialects/inference.ts'
import { ollamaRoutes } from './dialects/ollama.ts'
import { ollamaInferenceRoutes } from './dialects/ollama-inference.ts'
import { openaiRoutes } from './dialects/openai.ts'
import { opsRoutes } from './dialects/ops.ts'
import { webuiRoutes } from './dialects/webui.ts'

declare module 'h3' {
  interface H3EventContext {
    /** The catalog id of the model the request named, once resolved (for the log). */
    model?: string
    /** What an unexpected error said, for the log (never the response). */
    failure?: string
    /** Headers every answer to this request carries: its id (the client's `x-request-id` when tame, else a fresh UUID) and CORS. */
    headers?: Record<string, string>
    /** Where a stream registers itself, so that a drain can end it. */
    streams?: Set<{ end(reason: string): void }>
    /** Takes provider keys out of what leaves toward the client (errors rendered here). */
    redactor?: Redactor
    /** How the request stands under CORS (when CORS_ORIGINS is set); routes answer preflights and withhold CORS from admin actions. */
    cors?: CorsAccess
  }
}

/** What the app is built from. */
export interface AppOptions {
  readonly catalog: Catalog
  /** Provider keys, base URLs and the gateway's settings (see README). */
  readonly env: Env
  /** The clock. Default: `() => new Date()`. */
  readonly now?: () => Date
  /** Where request log lines (JSON) go. Default: stdout. */
  readonly log?: (line: string) => void
}

// Routes that load balancers and orchestrators call without credentials, and the dashboard's
// page and assets (they hold no data; the API calls they make carry the key).
const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', ...DASHBOARD_PATHS])

// A client's request id is echoed only if it is this tame; otherwise a fresh one is made.
const REQUEST_ID = /^[\w.:-]{1,128}$/

/**
 * Writes lines to stdout in one write per event-loop turn rather than one per line: a write to
 * a pipe is a blocking system call on Linux, and a busy gateway logs thousands of lines a second.
 */
export function bufferedStdout(): ((line: string) => void) & { flush(): void } {
  let pending: string[] = []
  const flush = () => {
    if (pending.length) process.stdout.write(`${pending.join('\n')}\n`)
    pending = []
  }
  const log = (line: string) => {
    if (pending.push(line) === 1) setImmediate(flush)
  }
  return Object.assign(log, { flush })
}

/**
 * Builds the gateway's h3 app (without listening): every route, client auth, CORS, request
 * ids, one JSON log line per request, and errors rendered in the client's dialect.
 * Throws ConfigError when the environment holds a malformed setting.
 */
export function createApp(options: AppOptions): { app: H3; gateway: Gateway } {
  const config = loadConfig(options.env)
  const now = options.now ?? (() => new Date())
  const log = options.log ?? bufferedStdout()
  const gateway = createGateway(options.catalog, options.env, config, now)
  // With client keys configured, the admin token opens the client routes too.
  // Request ids made here: this instance's random id and a counter (unique across replicas,
  // and cheaper than a UUID per request).
  const instance = randomUUID().slice(0, 8)
  let served = 0
  const clientKeys = config.apiKeys.length && config.adminToken ? [...config.apiKeys, config.adminToken] : config.apiKeys
  // Every secret the process holds: no log line carries one, whatever text an error brought in.
  const secrets = new Redactor([...Object.values(gateway.upstreams).map((u) => u.key), ...config.apiKeys, config.adminToken])
  const debug = config.logLevel === 'debug'

  // Errors are caught and rendered by the middleware below; this only guards anything before it.
  const app = new H3({ silent: true, allowMalformedURL: true, onError: renderError })

  // Every request passes here once: an id, CORS, client auth, the handler, then one response
  // with the id and CORS headers (plain data as JSON, errors in the client's dialect), counted
  // in the stats and logged as one JSON line. Path parameters are decoded by the routes
  // (allowMalformedURL), which answer bad encodings with a clear 400.
  app.use(async (event, next) => {
    const started = performance.now()
    const given = event.req.headers.get('x-request-id')
    const requestId = given && REQUEST_ID.test(given) ? given : `${instance}-${(++served).toString(36)}`
    const access = config.corsOrigins.length ? corsAccess(event, config.corsOrigins) : undefined
    event.context.headers = { 'x-request-id': requestId, ...(access && !access.preflight && corsHeaders(access, true)) }
    event.context.cors = access
    event.context.streams = gateway.streams
    event.context.redactor = gateway.redactor
    let response: Response
    try {
      // A preflight carries no credentials: the route it asks about answers it.
      if (clientKeys.length && !access?.preflight && !PUBLIC_PATHS.has(event.url.pathname)) _authorize(event, clientKeys)
      const value = await next()
      // A symbol is h3 saying that no route matched.
      if (typeof value === 'symbol' || value === undefined) throw httpError(404, `no route for ${event.req.method} ${event.url.pathname}`, { code: 'not_found' })
      response = value instanceof Response ? value : reply(event, JSON.stringify(value))
    } catch (error) {
      response = renderError(error, event)
      if (debug) event.context.failure ??= _causes(error)
    }
    const { model, failure } = event.context
    gateway.stats.request(event.req.method, event.context.matchedRoute?.route ?? 'unmatched', response.status)
    const line = JSON.stringify({
      time: now().toISOString(),
      request_id: requestId,
      method: event.req.method,
      path: event.url.pathname,
      status: response.status,
      model,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      error: failure,
      headers: debug ? _loggableHeaders(event.req.headers) : undefined,
    })
    log(secrets.text(line))
    return response
  })

  openaiRoutes(app, gateway)
  inferenceRoutes(app, gateway)
  ollamaRoutes(app, gateway)
  ollamaInferenceRoutes(app, gateway)
  webuiRoutes(app, gateway)
  adminRoutes(app, gateway)
  opsRoutes(app, gateway)
  dashboardRoutes(app)
  return { app, gateway }
}

// Headers whose values are credentials, logged as [redacted] at debug level.
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'cookie', 'set-cookie'])

function _loggableHeaders(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers].map(([name, value]) => [name, SECRET_HEADERS.has(name) ? '[redacted]' : value]))
}

// An error and what caused it, for a debug log line: "message <- cause <- cause's cause".
function _causes(error: unknown): string {
  const out: string[] = []
  for (let e = error as { message?: unknown; code?: unknown; cause?: unknown } | undefined; e && out.length < 5; e = e.cause as typeof e) {
    const said = `${String(e.message ?? e)}${typeof e.code === 'string' && !String(e.message).includes(e.code) ? ` (${e.code})` : ''}`
    if (said !== out.at(-1)) out.push(said) // a wrapper that repeats its cause says it once
  }
  return out.join(' <- ')
}

function _authorize(event: H3Event, keys: readonly string[]): void {
  const token = bearer(event)
  if (!token || !oneOf(token, keys)) {
    throw httpError(401, 'a valid API key is required: send Authorization: Bearer <key> (one of GATEWAY_API_KEYS)', { code: 'invalid_api_key', headers: { 'www-authenticate': 'Bearer' } })
  }
}
