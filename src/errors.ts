import { HTTPError } from 'h3'

/** What an error says beyond its status and message, in OpenAI's terms. */
export interface ErrorDetails {
  /** OpenAI's machine-readable `code`, e.g. `model_not_found`. */
  readonly code?: string
  /** The request field at fault, e.g. `model`. */
  readonly param?: string
  /** Response headers the error carries, e.g. `Allow` or `Retry-After`. */
  readonly headers?: Record<string, string>
  readonly cause?: unknown
  /** Mid-stream: the client has already been told (the upstream's own error event passed on); nothing more is written. */
  readonly told?: boolean
}

/** An HTTP error for a client: thrown anywhere on the request path, rendered once per dialect. */
export function httpError(status: number, message: string, details: ErrorDetails = {}): HTTPError {
  return new HTTPError({ status, message, headers: details.headers, cause: details.cause, data: { code: details.code, param: details.param, ...(details.told && { told: true }) } })
}

/** Anything thrown, as the error a client may hear: an HTTPError as it is, anything else a 500 that says no more. */
export function clientError(thrown: unknown): HTTPError {
  return HTTPError.isError(thrown) && !thrown.unhandled ? thrown : new HTTPError({ status: 500, unhandled: true, cause: thrown, message: 'internal error' })
}

// The one table of error types: OpenAI's `type` for each status the gateway answers with (in a
// JSON answer or an event mid-stream alike); any other 5xx is `server_error`, 4xx `invalid_request_error`.
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

/** An error as OpenAI's error object (`message`, `type`, `param`, `code`): the hub shape every dialect renders from. */
export function openaiError(error: HTTPError): { message: string; type: string; param: string | null; code: string | null } {
  const data = (error.data ?? {}) as { code?: string; param?: string }
  // A spent budget is OpenAI's own type too: the SDKs tell it from a rate limit by it.
  const type = data.code === 'insufficient_quota' ? 'insufficient_quota' : (OPENAI_TYPES[error.status] ?? (error.status >= 500 ? 'server_error' : 'invalid_request_error'))
  return { message: error.unhandled ? 'internal error' : error.message, type, param: data.param ?? null, code: data.code ?? null }
}

// Anthropic's error `type` for each status (its API's table); any other 5xx is `api_error`, any other 4xx `invalid_request_error`.
const ANTHROPIC_TYPES: Readonly<Record<number, string>> = {
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  504: 'timeout_error',
  529: 'overloaded_error',
}

/** An error as Anthropic's envelope (`{"type":"error","error":{"type","message"}}`), from the hub shape. */
export function anthropicError(status: number, e: { message: string }): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type: ANTHROPIC_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message: e.message } }
}
