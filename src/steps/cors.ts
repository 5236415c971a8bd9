import type { RequestView } from '../request-view.ts'
import { FastResponse } from 'srvx'

// What browsers may send and read cross-origin.
const ALLOW_HEADERS = 'authorization, content-type, x-request-id, x-api-key, anthropic-version, anthropic-beta'
const EXPOSE_HEADERS = 'x-request-id, etag, deprecation, sunset, x-gateway-model, x-gateway-dropped-params'

/**
 * The CORS step, for the origins listed in CORS_ORIGINS: answers a preflight, or adds the
 * headers that let a listed origin read the answer. Never for the admin actions the matched
 * route declares, however its path is spelt. Every answer varies by Origin, so that shared
 * caches keep the allowed and refused variants apart.
 */
export function cors(origins: readonly string[]): (event: RequestView) => Response | undefined {
  return (event) => {
    const given = event.req.headers.get('origin')
    const origin = given !== null && origins.includes(given) ? given : undefined
    const preflight = event.req.method === 'OPTIONS' && event.req.headers.has('access-control-request-method')
    const method = (preflight ? event.req.headers.get('access-control-request-method') : event.req.method) ?? ''
    const admin = event.context.matchedRoute?.meta?.admin
    const open = origin !== undefined && admin !== 'all' && !(admin === 'writes' && method !== 'GET' && method !== 'HEAD')
    const headers: Record<string, string> = open ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSE_HEADERS, vary: 'origin' } : { vary: 'origin' }
    event.context.headers = { ...event.context.headers, ...headers }
    if (!preflight) return undefined
    const extra: Record<string, string> = open ? { 'access-control-allow-methods': 'GET, HEAD, POST', 'access-control-allow-headers': ALLOW_HEADERS, 'access-control-max-age': '600' } : {}
    return new FastResponse(null, { status: 204, statusText: 'No Content', headers: { ...event.context.headers, ...extra } })
  }
}
