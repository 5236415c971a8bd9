import { STATUS_CODES } from 'node:http'
import { HTTPError } from 'h3'
import type { H3Event } from 'h3'

/** What an error says beyond its status and message, in OpenAI's terms. */
export interface ErrorDetails {
  /** OpenAI's machine-readable `code`, e.g. `model_not_found`. */
  readonly code?: string
  /** The request field at fault, e.g. `model`. */
  readonly param?: string
  /** Response headers the error carries, e.g. `Allow` or `Retry-After`. */
  readonly headers?: Record<string, string>
  readonly cause?: unknown
}

/** An HTTP error for a client: thrown by handlers, rendered by `renderError` in the client's dialect. */
export function httpError(status: number, message: string, details: ErrorDetails = {}): HTTPError {
  return new HTTPError({ status, message, headers: details.headers, cause: details.cause, data: { code: details.code, param: details.param } })
}

// Reason phrases Node does not know: 499 is nginx's, for a client that left mid-request.
const STATUS_TEXTS: Readonly<Record<number, string>> = { 499: 'Client Closed Request' }

// OpenAI's error `type` for each status the gateway answers with.
const OPENAI_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  405: 'invalid_request_error',
  410: 'invalid_request_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'service_unavailable',
}

/**
 * Renders any error in exactly one place, in the dialect of the route it happened on:
 * Ollama's `{"error": "..."}` under /api, else OpenAI's envelope (`message`, `type`, `param`,
 * `code`) with a FastAPI-style `detail` mirror. Anything but an HTTPError is a 500 that says
 * no more than that (its message goes to the log only).
 */
export function renderError(thrown: unknown, event: H3Event): Response {
  const error = HTTPError.isError(thrown) && !thrown.unhandled ? thrown : new HTTPError({ status: 500, unhandled: true, cause: thrown })
  if (error.unhandled) event.context.failure = String((thrown as Error | undefined)?.message ?? thrown)
  const status = error.status
  // An upstream's message may echo its key: every provider key is taken out, of headers too.
  const redact = (text: string) => event.context.redactor?.text(text) ?? text
  const message = error.unhandled ? 'internal error' : redact(error.message)
  const data = (error.data ?? {}) as { code?: string; param?: string }
  // The headers every answer carries (request id, CORS), then the error's own.
  const own = Object.fromEntries([...(error.headers ?? [])].map(([name, value]) => [name, redact(value)]))
  const headers: Record<string, string> = { ...event.context.headers, ...own, 'content-type': 'application/json' }
  const path = event.url.pathname
  const body = path === '/api' || path.startsWith('/api/')
    ? { error: message }
    : {
        error: { message, type: OPENAI_TYPES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), param: data.param ?? null, code: data.code ?? null },
        detail: message,
      }
  return new Response(JSON.stringify(body), { status, statusText: STATUS_TEXTS[status] ?? STATUS_CODES[status], headers })
}
