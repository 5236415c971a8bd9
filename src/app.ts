import { performance } from 'node:perf_hooks' // the global is a getter, run on every read
import { writeSync } from 'node:fs'
import { H3 } from 'h3'
import type { Catalog } from './catalog/types.ts'
import type { Env } from './catalog/visibility.ts'
import { loadConfig } from './config.ts'
import { renderError } from './dialects/errors.ts'
import { laneRoutes, notFoundRoutes } from './dialects/internal/methods.ts'
import type { RequestView } from './request-view.ts'
import { lane } from './lane.ts'
import type { Lane, Steps } from './lane.ts'
import { Redactor } from './redact.ts'
import { accessLog, causes } from './steps/access-log.ts'
import { clientAuth } from './steps/client-auth.ts'
import { cors } from './steps/cors.ts'
import { requestId } from './steps/request-id.ts'
import { reply } from './reply.ts'
import { createGateway } from './gateway.ts'
import type { Gateway } from './gateway.ts'
import { adminRoutes } from './dialects/admin.ts'
import { dashboardRoutes } from './dialects/dashboard.ts'
import { ollamaRoutes } from './dialects/ollama.ts'
import { anthropicRoutes } from './dialects/anthropic.ts'
import { openaiRoutes } from './dialects/openai.ts'
import { opsRoutes } from './dialects/ops.ts'
import { webuiRoutes } from './dialects/webui.ts'
import { hasTeams } from './policy/access.ts'
import { policy as shippedPolicy } from './policy/teams.generated.ts'
import type { Policy, Team } from './policy/types.ts'
import type { RequestTrace } from './tracing.ts'
import type { ClientSignal } from './client-signal.ts'

declare module 'h3' {
  interface H3EventContext {
    /** The catalog id of the model that served the request, once resolved (for the log). */
    model?: string
    /** The model the request named, when a fallback served it instead (for the log). */
    requested?: string
    /** What an unexpected error said, for the log (never the response). */
    failure?: string
    /** Headers every answer to this request carries: its id (the client's `x-request-id` when tame, else this instance's own) and CORS. */
    headers?: Record<string, string>
    /** Where a stream registers itself, so that a drain can end it. */
    streams?: Set<{ end(reason: string): void }>
    /** Takes provider keys out of what leaves toward the client (errors rendered here). */
    redactor?: Redactor
    /** The caller's team (teams.yaml), found by its key. */
    team?: Team
    /** Aborts when the client goes away (see clientSignal), once something asked for it. */
    signal?: ClientSignal
    /** The request's span, when tracing is on. */
    trace?: RequestTrace
    /** Set by a streamed answer: `streamEnded` is called once its stream ends, however it ends. */
    streaming?: boolean
    streamEnded?: () => void
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
  /** The access policy. Default: the compiled teams.yaml. */
  readonly policy?: Policy
}

// How long a log line may wait for the lines after it, and how many bytes may wait (see bufferedStdout).
const LOG_FLUSH_MS = 50
const LOG_BUFFER_BYTES = 256 * 1024

/**
 * Writes lines to stdout in one write every 50 ms (or up to 256 KB) rather than one per line:
 * each write is a system call, and a busy gateway logs thousands of lines a second. The lines
 * wait as bytes, outside the JavaScript heap: a busy gateway's waiting lines, kept as strings,
 * were most of what each young-generation collection had to copy (measured with --trace-gc-nvp).
 * What waits is written when the process exits (by itself, by `process.exit`, or on an uncaught
 * error; a SIGKILL loses up to 50 ms of lines; on a pipe, `process.exit` does not wait for a
 * write that the reader has yet to take, as Node queues it). A stdout that can no longer be
 * written (its reader gone: EPIPE) does not end the process: stderr says so once, and the lines
 * are dropped from then on.
 */
export function bufferedStdout(): ((line: string) => void) & { flush(): void } {
  let bytes = Buffer.allocUnsafeSlow(LOG_BUFFER_BYTES)
  let used = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let broken = false
  const flush = () => {
    clearTimeout(timer)
    if (used && !broken) {
      process.stdout.write(bytes.subarray(0, used))
      // Written at once (a file; a pipe or socket when the kernel took it all), the buffer serves
      // again; else the write is queued and still reads it: the lines to come get a new one.
      if (process.stdout.writableLength) bytes = Buffer.allocUnsafeSlow(LOG_BUFFER_BYTES)
    }
    used = 0
  }
  process.once('exit', flush)
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (broken) return
    broken = true
    used = 0
    // Written at once, and never thrown: stderr may have lost its reader too.
    try {
      writeSync(2, `${JSON.stringify({ time: new Date().toISOString(), level: 'error', message: `stdout cannot be written (${error.code ?? error.message}): log lines are dropped from now on` })}\n`)
    } catch {}
  })
  const log = (line: string) => {
    if (broken) return
    // A UTF-16 unit takes at most 3 bytes in UTF-8; a line too long to wait is written at once.
    const most = line.length * 3 + 1
    if (used + most > bytes.length) {
      flush()
      if (most > bytes.length) return void process.stdout.write(`${line}\n`)
    }
    if (used === 0) timer = setTimeout(flush, LOG_FLUSH_MS).unref()
    used += bytes.write(line, used)
    bytes[used++] = 0x0a
  }
  return Object.assign(log, { flush })
}

// The default log of every app in the process: one buffer, one exit hook.
let stdout: ReturnType<typeof bufferedStdout> | undefined

/**
 * Builds the gateway's h3 app (without listening): the steps every request passes (request id,
 * CORS, client auth, then the route, then the access log), and the routes of each dialect, with
 * the lane (src/lane.ts) that answers the listings on node:http by the same steps (nodeHandler
 * takes it). Throws ConfigError when the environment holds a malformed setting.
 */
export function createApp(options: AppOptions): { app: H3 & { readonly lane: Lane }; gateway: Gateway } {
  const config = loadConfig(options.env)
  const given = options.now
  const now = given ?? (() => new Date())
  // The same clock in epoch milliseconds, read by every listing and log line: a Date costs a
  // runtime call to make (about 600 instructions, counted with callgrind).
  const nowMs = given ? () => given().getTime() : Date.now
  const log = options.log ?? (stdout ??= bufferedStdout())
  const policy = options.policy ?? shippedPolicy
  const gateway = createGateway(options.catalog, options.env, config, { now, nowMs }, policy, (message) => log(JSON.stringify({ time: now().toISOString(), level: 'warn', message })))
  const debug = config.logLevel === 'debug'
  const id = requestId()
  const crossOrigin = config.corsOrigins.length ? cors(config.corsOrigins) : undefined
  // With client keys or teams configured, the admin token opens the client routes too.
  const keys = (config.apiKeys.length || hasTeams(policy)) && config.adminToken ? [...config.apiKeys, config.adminToken] : config.apiKeys
  const auth = clientAuth(keys, policy, config.apiKeys.length > 0)
  const secrets = new Redactor([...Object.values(gateway.upstreams).map((u) => u.key), ...config.apiKeys, config.adminToken])
  const logged = accessLog({ log, secrets, debug, nowMs, stats: gateway.stats })

  const limitHeaders = async (event: RequestView) => {
    event.context.headers = { ...event.context.headers, ...(await gateway.limits.headers(event.context.team!)) }
  }

  // What the steps do once the answer is known: the log line and the end of the request's span.
  const done = (event: RequestView, response: Response, started: number, trace: RequestTrace | undefined) => {
    logged(event, response, started)
    if (trace) {
      const end = () => trace.end(event.context.matchedRoute?.route ?? 'unmatched', response.status)
      if (event.context.streaming) event.context.streamEnded = end
      else end()
    }
    return response
  }
  const answered = (event: RequestView, value: unknown, started: number, trace: RequestTrace | undefined, read: boolean): Response | Promise<Response> => {
    let response: Response
    try {
      response = value instanceof Response ? value : reply(event, JSON.stringify(value))
    } catch (error) {
      return failed(event, error, started, trace, read)
    }
    return done(event, response, started, trace)
  }
  // `read` (here and in answered): a team's request limit was read for this request already.
  const failed = (event: RequestView, error: unknown, started: number, trace: RequestTrace | undefined, read: boolean): Response | Promise<Response> => {
    // Every answer to a team with a request limit says how many requests it has left.
    if (!read && event.context.team?.limits.rpm && !event.context.headers?.['x-ratelimit-remaining-requests']) {
      return limitHeaders(event).then(() => failed(event, error, started, trace, true))
    }
    if (debug) event.context.failure ??= causes(error)
    return done(event, renderError(error, event), started, trace)
  }

  // The steps every request passes, around the matched route's handler (`next`): the route is
  // already matched, so each step reads what it declares (dialect, admin actions, public). Plain
  // data becomes JSON; errors are rendered in the route's dialect. The answer is returned at
  // once when nothing was awaited (a promise costs a listing a turn of the microtask queue).
  const steps: Steps = (event, next) => {
    const started = performance.now()
    const trace = gateway.tracing.current?.request(event.req.headers, event.req.method)
    if (trace) event.context.trace = trace
    id(event)
    event.context.streams = gateway.streams
    event.context.redactor = gateway.redactor
    let preflight: Response | undefined
    let value: unknown
    try {
      preflight = crossOrigin?.(event)
      if (!preflight) {
        auth(event)
        // A model call draws from a team's limits and says so itself; any other route reads them first.
        if (event.context.team?.limits.rpm && !event.context.matchedRoute?.meta?.calls) {
          return limitHeaders(event).then(next).then((v) => answered(event, v, started, trace, true), (error) => failed(event, error, started, trace, true))
        }
        value = next()
      }
    } catch (error) {
      return failed(event, error, started, trace, false)
    }
    if (preflight) return done(event, preflight, started, trace)
    if (value instanceof Promise) return value.then((v) => answered(event, v, started, trace, false), (error) => failed(event, error, started, trace, false))
    return answered(event, value, started, trace, false)
  }

  // Errors are caught and rendered by the steps; this only guards anything before them.
  const app = new H3({ silent: true, allowMalformedURL: true, onError: renderError })
  // The steps, in one middleware (each hop through h3 costs). Path parameters are decoded by the
  // routes (allowMalformedURL), which answer bad encodings with a clear 400.
  app.use(steps)

  openaiRoutes(app, gateway)
  anthropicRoutes(app, gateway)
  ollamaRoutes(app, gateway)
  webuiRoutes(app, gateway)
  adminRoutes(app, gateway)
  opsRoutes(app, gateway)
  dashboardRoutes(app)
  notFoundRoutes(app)
  return { app: Object.assign(app, { lane: lane(laneRoutes(app), steps) }), gateway }
}
