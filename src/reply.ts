import { FastResponse } from 'srvx'
import type { H3Event } from 'h3'

/**
 * A response with the request's own headers (request id, CORS) and `headers`; JSON unless
 * told otherwise. srvx's FastResponse with plain headers is sent without building a Headers
 * object, which keeps small answers close to a bare node:http server's cost.
 */
export function reply(event: H3Event, body: string | null, headers: Record<string, string> = {}, status = 200): Response {
  return new FastResponse(body, { status, headers: { 'content-type': 'application/json', ...event.context.headers, ...headers } })
}
