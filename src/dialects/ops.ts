import type { H3 } from 'h3'
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
    GET: (event) => reply(event, gw.stats.prometheus({ catalog_version: gw.catalog.version }, gw.now()), { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  })
}
