import type { H3 } from 'h3'
import { httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { reply } from '../reply.ts'
import { route } from './internal/methods.ts'

/** GET /healthz (the process answers), /readyz (it has a catalog to serve), /metrics (Prometheus). */
export function opsRoutes(app: H3, gw: Gateway): void {
  // Load balancers and orchestrators call these two without credentials.
  route(app, '/healthz', { GET: () => ({ status: 'ok' }) }, { public: true })
  route(app, '/readyz', {
    GET: () => ({ status: 'ready', catalog_version: gw.catalog.version, models: Object.keys(gw.catalog.models).length }),
  }, { public: true })
  route(app, '/metrics', {
    GET: (event) => {
      // Every team's figures are here: a team's key does not open them (the admin token does).
      if (event.context.team) throw httpError(403, '/metrics holds every team\'s figures: scrape it with the admin token or one of GATEWAY_API_KEYS, not a team key', { code: 'permission_denied' })
      return reply(event, gw.stats.prometheus({ catalog_version: gw.catalog.version }, gw.now()), { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
    },
  })
}
