import type { RequestView } from '../request-view.ts'
import { httpError } from '../errors.ts'
import { hasTeams, teamOf } from '../policy/access.ts'
import { clientKey, oneOf } from '../policy/keys.ts'
import type { Policy } from '../policy/types.ts'

/**
 * The client-auth step: with teams (teams.yaml) or client keys (GATEWAY_API_KEYS) configured,
 * every request needs a key, as a bearer token or `x-api-key` (401 otherwise): a team's key puts the team on the
 * request (`event.context.team`), one of `keys` lets it through without a team. The routes that
 * declare themselves public and CORS preflights (which carry no credentials; the CORS step
 * answers them) need none. Neither configured: the gateway is open.
 */
export function clientAuth(keys: readonly string[], policy: Policy, named = keys.length > 0): (event: RequestView) => void {
  const teams = hasTeams(policy)
  // `named`: GATEWAY_API_KEYS is set (`keys` may hold the admin token alone).
  const wanted = [teams && 'a team key from teams.yaml', named && 'one of GATEWAY_API_KEYS'].filter(Boolean).join(' or ')
  return (event) => {
    if ((!keys.length && !teams) || event.context.matchedRoute?.meta?.public) return
    if (event.req.method === 'OPTIONS' && event.req.headers.has('access-control-request-method')) return
    const token = clientKey(event)
    const team = token && teams ? teamOf(policy, token) : undefined
    if (team) event.context.team = team
    else if (!token || !oneOf(token, keys)) {
      throw httpError(401, `a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key> (${wanted})`, { code: 'invalid_api_key', headers: { 'www-authenticate': 'Bearer' } })
    }
  }
}
