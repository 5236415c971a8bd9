import type { H3 } from 'h3'
import { requireAdmin } from '../policy/keys.ts'
import { deprecationState } from '../catalog/deprecation.ts'
import type { Model } from '../catalog/types.ts'
import { httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { jsonObject, laneRoute, route } from './internal/methods.ts'
import { responsesTranslated } from './responses-translate.ts'

const CHAT_KINDS: ReadonlySet<string> = new Set(['chat', 'reasoning'])

// The web UI's routes answer errors as `{"error": "..."}`.
const WEBUI = { dialect: 'webui' } as const

/** A model as the web UI shows it: ChatMock's fields, plus what a model picker needs. */
export function toWebUIModel(m: Model, now: Date) {
  const d = deprecationState(m, now)
  return {
    id: m.id,
    name: m.name,
    description: m.description ?? '',
    provider: m.provider,
    kind: m.kind,
    apis: m.apis,
    // How /v1/responses reaches it: the provider's own Responses API, or translated to chat completions.
    responses: m.apis.includes('responses') ? 'native' : responsesTranslated(m) ? 'translated' : null,
    capabilities: m.capabilities,
    efforts: m.efforts,
    experimental: m.experimental,
    ...(m.experimental && { experimental_since: m.experimental_since ?? null, stability: m.stability ?? null }),
    context_window: m.context_window ?? null,
    max_output: m.max_output ?? null,
    pricing: m.pricing ?? null,
    deprecation: d.state === 'none' ? null : d,
    shutdown_date: m.deprecation?.sunset ?? null,
  }
}

/** GET /api/models, GET /api/models/by-endpoint (LibreChat), GET/POST /api/config, GET /api/stats. */
export function webuiRoutes(app: H3, gw: Gateway): void {
  laneRoute(app, '/api/models', (event) => gw.listing(event, 'webui', (models) => ({ models: models.map((m) => toWebUIModel(m, gw.now())) })), WEBUI)
  laneRoute(app, '/api/models/by-endpoint', (event) =>
    gw.listing(event, 'by-endpoint', (models) => {
      // LibreChat's endpoints take chat models, from providers with a key that is set.
      const groups: Record<string, string[]> = {}
      for (const m of models) {
        const provider = gw.catalog.providers[m.provider]!
        if (provider.api_key_env && CHAT_KINDS.has(m.kind)) (groups[provider.endpoint_type] ??= []).push(m.id)
      }
      if (Object.keys(groups).length === 0) {
        throw httpError(503, 'No models/endpoints available: no endpoint type has both a configured API key and an active model (set a provider key such as OPENAI_API_KEY)', { code: 'no_endpoints' })
      }
      return groups
    }), WEBUI)
  route(app, '/api/config', {
    GET: () => _config(gw),
    POST: async (event) => {
      requireAdmin(event, gw.config.adminToken)
      const body = await jsonObject(event, gw.config.maxBodyBytes)
      const unknown = Object.keys(body).filter((k) => k !== 'expose_experimental_models')
      if (unknown.length) throw httpError(400, `unknown setting ${unknown.join(', ')} (settable: expose_experimental_models)`, { param: unknown[0] })
      if (typeof body.expose_experimental_models !== 'boolean') {
        throw httpError(400, `expose_experimental_models must be true or false (got ${JSON.stringify(body.expose_experimental_models) ?? 'nothing'})`, { param: 'expose_experimental_models' })
      }
      const store = await gw.limits.store()
      try {
        await store.setSwitch(body.expose_experimental_models)
      } catch (error) {
        throw httpError(503, `the setting is shared through Redis (REDIS_URL), which cannot be reached: not changed (${(error as Error).message})`, { code: 'store_unavailable' })
      }
      gw.runtime.exposeExperimental = body.expose_experimental_models
      const shared = store.kind === 'redis'
      return { ..._config(gw), applied_to: shared ? 'every replica: the setting is shared through Redis (REDIS_URL)' : 'this process only: other replicas keep their own setting; set EXPOSE_EXPERIMENTAL_MODELS to change them all, or share it with REDIS_URL' }
    },
  }, { admin: 'writes', dialect: 'webui' })
  route(app, '/api/stats', {
    GET: (event) => {
      // A team sees its own figures and those of the models it may use, not the others'.
      const team = event.context.team
      const allowed = gw.allowed(event)
      return gw.stats.snapshot(gw.now(), team && { team: team.id, model: (name) => Object.hasOwn(gw.catalog.models, name) && allowed!(gw.catalog.models[name]!) })
    },
  }, WEBUI)
}

function _config(gw: Gateway) {
  return { expose_experimental_models: gw.runtime.exposeExperimental, catalog_version: gw.catalog.version }
}
