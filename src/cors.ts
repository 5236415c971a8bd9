import type { H3Event } from 'h3'

// What browsers may send and read cross-origin.
const ALLOW_HEADERS = 'authorization, content-type, x-request-id'
const EXPOSE_HEADERS = 'x-request-id, etag, deprecation, sunset'

/**
 * CORS for the origins listed in CORS_ORIGINS, never for the admin surface. Returns the
 * preflight answer for OPTIONS, otherwise the headers to add to the response (possibly none).
 */
export function cors(event: H3Event, origins: readonly string[]): { preflight?: Response; headers: Record<string, string> } {
  const origin = event.req.headers.get('origin')
  const allowed = origin !== null && origins.includes(origin) && !event.url.pathname.startsWith('/api/admin')
  const headers: Record<string, string> = allowed ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSE_HEADERS, vary: 'origin' } : {}
  if (event.req.method !== 'OPTIONS' || !event.req.headers.has('access-control-request-method')) return { headers }
  const preflight = new Response(null, {
    status: 204,
    headers: allowed ? { ...headers, 'access-control-allow-methods': 'GET, HEAD, POST', 'access-control-allow-headers': ALLOW_HEADERS, 'access-control-max-age': '600' } : { vary: 'origin' },
  })
  return { preflight, headers }
}
