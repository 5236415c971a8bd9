import type { H3Event } from 'h3'

// What browsers may send and read cross-origin.
const ALLOW_HEADERS = 'authorization, content-type, x-request-id'
const EXPOSE_HEADERS = 'x-request-id, etag, deprecation, sunset'

/** A request's standing under CORS: whether it is a preflight, for which method, from a listed origin or not. */
export interface CorsAccess {
  readonly preflight: boolean
  /** The method the browser means to use (a preflight's `Access-Control-Request-Method`). */
  readonly method: string
  /** The request's Origin when CORS_ORIGINS lists it. */
  readonly origin?: string
}

/** How `event` stands under CORS for the origins listed in CORS_ORIGINS. */
export function corsAccess(event: H3Event, origins: readonly string[]): CorsAccess {
  const origin = event.req.headers.get('origin')
  const preflight = event.req.method === 'OPTIONS' && event.req.headers.has('access-control-request-method')
  const method = (preflight ? event.req.headers.get('access-control-request-method') : event.req.method) ?? ''
  return { preflight, method, origin: origin !== null && origins.includes(origin) ? origin : undefined }
}

/**
 * The CORS headers of an answer: allow-origin for a listed origin when the route is `open` to
 * browsers (admin actions never are). Every answer varies by Origin, so that shared caches keep
 * the allowed and refused variants apart.
 */
export function corsHeaders(access: CorsAccess, open: boolean): Record<string, string> {
  return access.origin && open ? { 'access-control-allow-origin': access.origin, 'access-control-expose-headers': EXPOSE_HEADERS, vary: 'origin' } : { vary: 'origin' }
}

/** The answer to a preflight, allowing the request only when the route is `open` to browsers. */
export function preflightReply(access: CorsAccess, open: boolean, headers: Record<string, string>): Response {
  const extra: Record<string, string> = access.origin && open ? { 'access-control-allow-methods': 'GET, HEAD, POST', 'access-control-allow-headers': ALLOW_HEADERS, 'access-control-max-age': '600' } : {}
  return new Response(null, { status: 204, statusText: 'No Content', headers: { ...headers, ...corsHeaders(access, open), ...extra } })
}

/** `headers` less the CORS headers that let a browser read the answer. */
export function withoutCors(headers: Record<string, string> = {}): Record<string, string> {
  const { 'access-control-allow-origin': _origin, 'access-control-expose-headers': _expose, ...rest } = headers
  return rest
}
