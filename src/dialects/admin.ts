import type { H3 } from 'h3'
import { getRouterParam } from 'h3'
import { requireAdmin } from '../policy/keys.ts'
import { deprecationState } from '../catalog/deprecation.ts'
import type { Model } from '../catalog/types.ts'
import { isCallable, isListed, providerConfigured } from '../catalog/visibility.ts'
import { httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { pathId, route } from './internal/methods.ts'

// Why writes are refused: the catalog is code, changed by pull request.
const READ_ONLY = 'The catalog is read-only at run time: to add, change, promote or retire a model, edit models.yaml (npm run catalog -- add|promote|deactivate|deprecate) and open a pull request.'

/** Every catalog field of a model, and where it stands in this process. */
function _adminModel(gw: Gateway, m: Model) {
  const now = gw.now()
  const provider = gw.catalog.providers[m.provider]!
  return {
    ...m,
    status: {
      active: m.active,
      experimental: m.experimental,
      callable: isCallable(m, now),
      listed: isListed(gw.catalog, m, { env: gw.env, exposeExperimental: gw.runtime.exposeExperimental, now }),
      provider_configured: providerConfigured(provider, gw.env),
      deprecation: deprecationState(m, now),
    },
  }
}

/** GET /api/admin/models[/{id}] (admin token); writes answer 405 saying how to change the catalog. */
export function adminRoutes(app: H3, gw: Gateway): void {
  route(
    app,
    '/api/admin/models',
    {
      GET: (event) => {
        requireAdmin(event, gw.config.adminToken)
        return { catalog_version: gw.catalog.version, models: Object.values(gw.catalog.models).map((m) => _adminModel(gw, m)) }
      },
    },
    { refusal: READ_ONLY, admin: 'all', dialect: 'webui' },
  )
  route(
    app,
    '/api/admin/models/**:id',
    {
      GET: (event) => {
        requireAdmin(event, gw.config.adminToken)
        const id = pathId(getRouterParam(event, 'id'))
        const model = Object.hasOwn(gw.catalog.models, id) ? gw.catalog.models[id]! : undefined
        if (!model) throw httpError(404, `model '${id}' is not in the catalog`, { code: 'model_not_found' })
        return _adminModel(gw, model)
      },
    },
    { refusal: READ_ONLY, admin: 'all', dialect: 'webui' },
  )
}
