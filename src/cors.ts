import type { H3Event } from 'h3'

// What browsers may send and read cross-origin.
const ALLOW_HEADERS = 'authorization, content-type, x-request-id'
const EXPOSE_HEADERS = 'x-request-id, etag, deprecation, sunset'

// Admin actions: no browser on another origin may call them, whatever CORS_ORIGINS says.
function _admin(path: string, method: string | null): boolean {
  return path === '/api/admin' || path.startsWith('/api/admin/') || (path === '/api/config' && method !== 'GET' && method !== 'HEAD')
}

/**
 * CORS for the origins listed in CORS_ORIGINS, never for admin actions. Returns the preflight
 * answer for OPTIONS, otherwise the headers to add to the response. Every answer varies by
 * Origin, so that shared caches keep the allowed and refused variants apart.
 */
export function cors(event: H3Event, origins: readonly string[]): { preflight?: Response; headers: Record<string, string> } {
  const origin = event.req.headers.get('origin')
  const preflight = event.req.method === 'OPTIONS' && event.req.headers.has('access-control-request-method')
  const method = preflight ? event.req.headers.get('access-control-request-method') : event.req.method
  const allowed = origin !== null && origins.includes(origin) && !_admin(event.url.pathname, method)
  const headers: Record<string, string> = allowed ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSE_HEADERS, vary: 'origin' } : { vary: 'origin' }
  if (!preflight) return { headers }
  const extra: Record<string, string> = allowed ? { 'access-control-allow-methods': 'GET, HEAD, POST', 'access-control-allow-headers': ALLOW_HEADERS, 'access-control-max-age': '600' } : {}
  return { preflight: new Response(null, { status: 204, statusText: 'No Content', headers: { ...headers, ...extra } }), headers }
}
