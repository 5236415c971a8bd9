import { STATUS_CODES } from 'node:http'
import type { RequestView } from '../request-view.ts'
import { FastResponse } from 'srvx'
import { anthropicError, clientError, openaiError } from '../errors.ts'

/** How a route's clients expect errors: OpenAI's envelope, Anthropic's, or Ollama's and the web UI's `{"error": "..."}`. */
export type Dialect = 'openai' | 'anthropic' | 'ollama' | 'webui'

// Reason phrases Node does not know: 499 is nginx's, for a client that left mid-request.
const STATUS_TEXTS: Readonly<Record<number, string>> = { 499: 'Client Closed Request' }

// Each dialect's error body: OpenAI's envelope with a FastAPI-style `detail` mirror, or a string.
const BODIES: Readonly<Record<Dialect, (e: ReturnType<typeof openaiError>, status: number) => unknown>> = {
  openai: (e) => ({ error: e, detail: e.message }),
  anthropic: (e, status) => anthropicError(status, e),
  ollama: (e) => ({ error: e.message }),
  webui: (e) => ({ error: e.message }),
}

/**
 * Renders any error in exactly one place, in the dialect the matched route declares (OpenAI's
 * when none matched; Anthropic's for an OpenAI route asked with `anthropic-version`, which only
 * Anthropic's clients send). Anything but an HTTPError is a 500 that says no more than that (its
 * message goes to the log only). Provider keys are taken out of the message and headers.
 */
export function renderError(thrown: unknown, event: RequestView): Response {
  const error = clientError(thrown)
  if (error.unhandled) event.context.failure = String((thrown as Error | undefined)?.message ?? thrown)
  const redact = (text: string) => event.context.redactor?.text(text) ?? text
  const body = openaiError(error)
  body.message = redact(body.message)
  const own = Object.fromEntries([...(error.headers ?? [])].map(([name, value]) => [name, redact(value)]))
  // The headers every answer carries (request id, CORS), then the error's own.
  const headers: Record<string, string> = { ...event.context.headers, ...own, 'content-type': 'application/json' }
  const declared = event.context.matchedRoute?.meta?.dialect ?? 'openai'
  const dialect = declared === 'openai' && event.req.headers.has('anthropic-version') ? 'anthropic' : declared
  return new FastResponse(JSON.stringify(BODIES[dialect](body, error.status)), { status: error.status, statusText: STATUS_TEXTS[error.status] ?? STATUS_CODES[error.status], headers })
}
