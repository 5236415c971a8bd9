import type { H3Event } from 'h3'
import type { Redactor } from '../redact.ts'
import type { Stats } from '../stats.ts'

/** What the access log writes to, and how much it says. */
export interface AccessLogOptions {
  readonly log: (line: string) => void
  /** Every secret the process holds: no log line carries one, whatever text an error brought in. */
  readonly secrets: Redactor
  /** LOG_LEVEL=debug: the request's headers (credentials hidden) and the error's causes too. */
  readonly debug: boolean
  readonly now: () => Date
  readonly stats: Stats
}

// Headers whose values are credentials, logged as [redacted] at debug level.
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'cookie', 'set-cookie'])

/**
 * The access-log step: each answered request counted in the stats by method, route pattern and
 * status, and logged as one JSON line (time, request id, method, path, status, model (and the one
 * asked for, when a fallback served), team, duration, what failed), every secret replaced.
 */
export function accessLog(options: AccessLogOptions): (event: H3Event, response: Response, started: number) => void {
  const { log, secrets, debug, now, stats } = options
  return (event, response, started) => {
    const ms = performance.now() - started
    stats.request(event.req.method, event.context.matchedRoute?.route ?? 'unmatched', response.status, ms / 1000)
    const line = JSON.stringify({
      time: now().toISOString(),
      request_id: event.context.headers?.['x-request-id'],
      method: event.req.method,
      path: event.url.pathname,
      status: response.status,
      model: event.context.model,
      requested_model: event.context.requested,
      team: event.context.team?.id,
      duration_ms: Math.round(ms * 100) / 100,
      error: event.context.failure,
      headers: debug ? _loggableHeaders(event.req.headers) : undefined,
    })
    log(secrets.text(line))
  }
}

/** An error and what caused it, for a debug log line: "message <- cause <- cause's cause". */
export function causes(error: unknown): string {
  const out: string[] = []
  for (let e = error as { message?: unknown; code?: unknown; cause?: unknown } | undefined; e && out.length < 5; e = e.cause as typeof e) {
    const said = `${String(e.message ?? e)}${typeof e.code === 'string' && !String(e.message).includes(e.code) ? ` (${e.code})` : ''}`
    if (said !== out.at(-1)) out.push(said) // a wrapper that repeats its cause says it once
  }
  return out.join(' <- ')
}

function _loggableHeaders(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers].map(([name, value]) => [name, SECRET_HEADERS.has(name) ? '[redacted]' : value]))
}
