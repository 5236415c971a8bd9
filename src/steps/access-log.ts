import { performance } from 'node:perf_hooks' // the global is a getter, run on every read
import type { RequestView, RequestHeaders } from '../request-view.ts'
import type { Redactor } from '../redact.ts'
import type { Stats } from '../stats.ts'

/** What the access log writes to, and how much it says. */
export interface AccessLogOptions {
  readonly log: (line: string) => void
  /** Every secret the process holds: no log line carries one, whatever text an error brought in. */
  readonly secrets: Redactor
  /** LOG_LEVEL=debug: the request's headers (credentials hidden) and the error's causes too. */
  readonly debug: boolean
  /** The clock, in epoch milliseconds. */
  readonly nowMs: () => number
  readonly stats: Stats
}

// Headers whose values are credentials, logged as [redacted] at debug level.
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'x-goog-api-key', 'cookie', 'set-cookie'])

/**
 * The access-log step: each answered request counted in the stats by method, route pattern and
 * status, and logged as one JSON line (time, request id, method, path, status, model (and the one
 * asked for, when a fallback served), team, duration, what failed), every secret replaced.
 */
export function accessLog(options: AccessLogOptions): (event: RequestView, response: Response, started: number) => void {
  const { log, secrets, debug, nowMs, stats } = options
  // The line's method and path (and the status's key after them), as last written: a busy
  // route's requests share them.
  let said = { method: '', path: '', text: '' }
  return (event, response, started) => {
    const ms = performance.now() - started
    const c = event.context
    const method = event.req.method
    const path = event.url.pathname
    stats.request(method, c.matchedRoute?.route ?? 'unmatched', response.status, ms / 1000)
    if (method !== said.method || path !== said.path) said = { method, path, text: `,"method":${_quoted(method)},"path":${_quoted(path)},"status":` }
    // Written field by field: what JSON.stringify of the object would write (absent fields left
    // out), for less than building the object costs a busy server (measured on the built server).
    // The request id is tame (the request-id step lets no other through): it needs no escape.
    const id = c.headers?.['x-request-id']
    let line = `{"time":"${_iso(nowMs())}"${id === undefined ? '' : `,"request_id":"${id}"`}${said.text}${response.status}`
    if (c.model !== undefined) line += `,"model":${_quoted(c.model)}`
    if (c.requested !== undefined) line += `,"requested_model":${_quoted(c.requested)}`
    if (c.team !== undefined) line += `,"team":${_quoted(c.team.id)}`
    line += `,"duration_ms":${_hundredths(ms)}`
    if (c.failure !== undefined) line += `,"error":${JSON.stringify(c.failure)}`
    if (debug) line += `,"headers":${JSON.stringify(_loggableHeaders(event.req.headers))}`
    line += '}'
    log(secrets.text(line))
  }
}

// The millisecond last written and its text, and the second's text up to the milliseconds:
// toISOString once a request cost a busy gateway about 10 µs of CPU a request (measured on the
// built server), and a busy gateway logs many lines within one millisecond.
let lastMs = NaN
let lastText = ''
let second = { at: NaN, text: '' }

/** `new Date(ms).toISOString()`, made once a millisecond from the second's text. */
function _iso(ms: number): string {
  if (ms === lastMs) return lastText
  const at = Math.floor(ms / 1000)
  if (at !== second.at) second = { at, text: new Date(ms).toISOString().slice(0, -4) }
  const fraction = ms - at * 1000
  lastMs = ms
  lastText = `${second.text}${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}Z`
  return lastText
}

/** `JSON.stringify(text)`, without its cost for text that needs no escape (printable ASCII with no `"` or `\`). */
function _quoted(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(text)
  }
  return `"${text}"`
}

/**
 * What `String(Math.round(ms * 100) / 100)` writes, from integers: a double's shortest text costs
 * V8 far more than an integer's (a request's duration, written on every log line).
 */
function _hundredths(ms: number): string {
  const hundredths = Math.round(ms * 100)
  if (!Number.isSafeInteger(hundredths) || hundredths < 0) return String(hundredths / 100)
  const whole = Math.floor(hundredths / 100)
  const rest = hundredths - whole * 100
  return rest === 0 ? `${whole}` : rest % 10 === 0 ? `${whole}.${rest / 10}` : `${whole}.${rest < 10 ? '0' : ''}${rest}`
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

function _loggableHeaders(headers: RequestHeaders): Record<string, string> {
  return Object.fromEntries([...headers].map(([name, value]) => [name, SECRET_HEADERS.has(name) ? '[redacted]' : value]))
}
