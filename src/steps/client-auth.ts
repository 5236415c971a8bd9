import type { H3Event } from 'h3'
import { httpError } from '../errors.ts'
import { bearer, oneOf } from '../policy/keys.ts'

/**
 * The client-auth step: with client keys configured, every request needs one as a bearer token
 * (401 otherwise), but for the routes that declare themselves public and for CORS preflights
 * (which carry no credentials; the CORS step answers them). No keys: the gateway is open.
 */
export function clientAuth(keys: readonly string[]): (event: H3Event) => void {
  return (event) => {
    if (!keys.length || event.context.matchedRoute?.meta?.public) return
    if (event.req.method === 'OPTIONS' && event.req.headers.has('access-control-request-method')) return
    const token = bearer(event)
    if (!token || !oneOf(token, keys)) {
      throw httpError(401, 'a valid API key is required: send Authorization: Bearer <key> (one of GATEWAY_API_KEYS)', { code: 'invalid_api_key', headers: { 'www-authenticate': 'Bearer' } })
    }
  }
}
