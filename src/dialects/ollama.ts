import { createHash } from 'node:crypto'
import type { H3 } from 'h3'
import type { Model } from '../catalog/types.ts'
import { httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { jsonObject, route } from './internal/methods.ts'

// The Ollama API version whose surface these routes implement (clients gate features on it).
const OLLAMA_API_VERSION = '0.12.0'

// Every route here answers errors as Ollama does.
const OLLAMA = { dialect: 'ollama' } as const

// Catalog capabilities as Ollama names them in /api/show.
const CAPABILITIES: Readonly<Record<string, string>> = { function_calling: 'tools', vision: 'vision', reasoning: 'thinking' }

/** Ollama's `details`: family and parameter size where the catalog knows them. */
function _details(m: Model) {
  const family = m.family ?? m.provider
  return { parent_model: '', format: '', family, families: [family], parameter_size: m.parameter_size ?? '', quantization_level: '' }
}

function _modified(m: Model): string {
  return m.released ? `${m.released}T00:00:00Z` : '1970-01-01T00:00:00Z'
}

/** An entry of /api/tags. `size` is 0: a gateway holds no weights. `digest` hashes the catalog entry. */
export function toOllamaTag(m: Model) {
  const digest = createHash('sha256').update(JSON.stringify(m)).digest('hex')
  return { name: m.id, model: m.id, modified_at: _modified(m), size: 0, digest, details: _details(m) }
}

/** The /api/show body: context length in `model_info`, capabilities from the catalog. */
export function toOllamaShow(m: Model) {
  const arch = m.family ?? m.provider
  const capabilities = ['chat', 'reasoning', 'completion'].includes(m.kind) ? ['completion'] : m.kind === 'embedding' ? ['embedding'] : []
  for (const c of m.capabilities) if (CAPABILITIES[c]) capabilities.push(CAPABILITIES[c])
  const info: Record<string, unknown> = { 'general.architecture': arch, 'general.basename': m.id }
  if (m.context_window !== undefined) info[`${arch}.context_length`] = m.context_window
  if (m.parameter_size) info['general.size_label'] = m.parameter_size
  return { modelfile: '', parameters: '', template: '', details: _details(m), model_info: info, capabilities, modified_at: _modified(m) }
}

/** Ollama's names may carry a tag; `:latest` is the model itself. */
export function ollamaName(name: string): string {
  return name.endsWith(':latest') ? name.slice(0, -':latest'.length) : name
}

/** GET /api/version, GET /api/tags, POST /api/show, GET /api/ps. */
export function ollamaRoutes(app: H3, gw: Gateway): void {
  route(app, '/api/version', { GET: () => ({ version: OLLAMA_API_VERSION }) }, OLLAMA)
  route(app, '/api/tags', { GET: (event) => gw.listing(event, 'ollama', (models) => ({ models: models.map(toOllamaTag) })) }, OLLAMA)
  route(app, '/api/ps', { GET: () => ({ models: [] }) }, OLLAMA)
  route(app, '/api/show', {
    POST: async (event) => {
      const body = await jsonObject(event, gw.config.maxBodyBytes, false)
      const name = body.model ?? body.name
      if (typeof name !== 'string' || name === '') throw httpError(400, 'model is required', { param: 'model' })
      let model: Model
      try {
        model = gw.resolve(ollamaName(name))
      } catch (error) {
        throw (error as { status?: number }).status === 404 ? httpError(404, `model '${name}' not found`, { code: 'model_not_found' }) : error
      }
      event.context.model = model.id
      return toOllamaShow(model)
    },
  }, OLLAMA)
}
