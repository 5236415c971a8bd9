import { randomUUID } from 'node:crypto'
import { H3 } from 'h3'
import type { H3Event, HTTPError } from 'h3'
import { bearer, oneOf } from './auth.ts'
import type { Catalog } from './catalog/types.ts'
import type { Env } from './catalog/visibility.ts'
import { loadConfig } from './config.ts'
import { cors } from './cors.ts'
import { httpError, renderError } from './errors.ts'
import { createGateway } from './gateway.ts'
import type { Gateway } from './gateway.ts'
import { adminRoutes } from './routes/admin.ts'
import { ollamaRoutes } from './routes/ollama.ts'
import { openaiRoutes } from './routes/openai.ts'
import { opsRoutes } from './routes/ops.ts'
import { webuiRoutes } from './routes/webui.ts'

declare module 'h3' {
  interface H3EventContext {
    /** The request's id: the client's `x-request-id` when tame, else a fresh UUID. */
    requestId?: string
    /** `performance.now()` when the request arrived. */
    started?: number
    /** The route pattern that answered, for logs and metrics. */
    route?: string
    /** The catalog id of the model the request named, once resolved. */
    model?: string
    /** What an unexpected error said, for the log (never the response). */
    failure?: string
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

// Routes that load balancers and orchestrators call without credentials.
const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz'])

// A client's request id is echoed only if it is this tame; otherwise a fresh one is made.
const REQUEST_ID = /^[\w.:-]{1,128}$/

/**
 * Builds the gateway's h3 app (without listening): every route, client auth, CORS, request
 * ids, one JSON log line per request, and errors rendered in the client's dialect.
 * Throws ConfigError when the environment holds a malformed setting.
 */
export function createApp(options: AppOptions): { app: H3; gateway: Gateway } {
  const config = loadConfig(options.env)
  const now = options.now ?? (() => new Date())
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`))
  const gateway = createGateway(options.catalog, options.env, config, now)
  // With client keys configured, the admin token opens the client routes too.
  const clientKeys = config.apiKeys.length && config.adminToken ? [...config.apiKeys, config.adminToken] : config.apiKeys

  const app = new H3({
    silent: true,
    // Path parameters are decoded by the routes, which answer bad encodings with a clear 400.
    allowMalformedURL: true,
    onRequest(event) {
      const given = event.req.headers.get('x-request-id')
      event.context.requestId = given && REQUEST_ID.test(given) ? given : randomUUID()
      event.context.started = performance.now()
    },
    onError: (error: HTTPError, event: H3Event) => {
      if (error.status === 404 && error.message.startsWith('Cannot find any route')) {
        error = httpError(404, `no route for ${event.req.method} ${event.url.pathname}`, { code: 'not_found' })
      }
      if (error.unhandled) event.context.failure = String((error.cause as Error | undefined)?.message ?? error.message)
      return renderError(error, event)
    },
    onResponse(response, event) {
      const { requestId = '', started = 0, model, route, failure } = event.context
      response.headers.set('x-request-id', requestId)
      for (const [name, value] of Object.entries(cors(event, config.corsOrigins).headers)) response.headers.set(name, value)
      gateway.stats.request(event.req.method, route ?? 'unmatched', response.status, model)
      log(JSON.stringify({
        time: now().toISOString(),
        request_id: requestId,
        method: event.req.method,
        path: event.url.pathname,
        status: response.status,
        model,
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
        error: failure,
      }))
    },
  })

  app.use((event, next) => {
    const { preflight } = cors(event, config.corsOrigins)
    if (preflight) return preflight
    if (clientKeys.length && !PUBLIC_PATHS.has(event.url.pathname)) {
      const token = bearer(event)
      if (!token || !oneOf(token, clientKeys)) {
        throw httpError(401, 'a valid API key is required: send Authorization: Bearer <key> (one of GATEWAY_API_KEYS)', { code: 'invalid_api_key', headers: { 'www-authenticate': 'Bearer' } })
      }
    }
    return next()
  })

  openaiRoutes(app, gateway)
  ollamaRoutes(app, gateway)
  webuiRoutes(app, gateway)
  adminRoutes(app, gateway)
  opsRoutes(app, gateway)
  return { app, gateway }
}
