import type { H3 } from 'h3'
import { getRouterParam } from 'h3'
import type { Model } from '../catalog/types.ts'
import type { Gateway } from '../gateway.ts'
import { deprecationHeaders } from '../gateway.ts'
import { reply } from '../reply.ts'
import { pathId, route } from './internal/methods.ts'

/** OpenAI's model object: `created` from the catalog's release date, `owned_by` from the model. */
export function toOpenAIModel(m: Model) {
  return { id: m.id, object: 'model', created: m.released ? Date.parse(`${m.released}T00:00:00Z`) / 1000 : 0, owned_by: m.owned_by }
}

/** GET /v1/models and GET /v1/models/{id} (ids with `/` and `:`, raw or `%2F`-encoded). */
export function openaiRoutes(app: H3, gw: Gateway): void {
  route(app, '/v1/models', {
    GET: (event) => gw.listing(event, 'openai', (models) => ({ object: 'list', data: models.map(toOpenAIModel) })),
  })
  route(app, '/v1/models/**:id', {
    GET: (event) => {
      const name = pathId(getRouterParam(event, 'id'))
      const model = gw.resolve(name)
      event.context.model = model.id
      // An alias answers under the name asked for, as OpenAI's own aliases do.
      return reply(event, JSON.stringify({ ...toOpenAIModel(model), id: name }), deprecationHeaders(model, gw.now()))
    },
  })
}
