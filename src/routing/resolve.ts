import { deprecationState } from '../catalog/deprecation.ts'
import { findModel } from '../catalog/lookup.ts'
import type { Catalog, Model } from '../catalog/types.ts'
import { httpError } from '../errors.ts'

/** What a name a client sent stands for: a model it may call, none (unknown or inactive), or one retired on its sunset. */
export type Resolved =
  | { readonly model: Model }
  | { readonly missing: string }
  | { readonly retired: string; readonly sunset: string; readonly replacement?: string }

/**
 * Resolves `name` in the catalog at `now` (exact id, alias, pattern), as a result each dialect
 * words itself. A model the caller may not use (`allowed`: its team's list) does not exist for
 * it. A model past its sunset is retired whether or not it is still active, so that callers keep
 * learning its replacement after the catalog marks it `active: false`.
 */
export function resolve(catalog: Catalog, name: string, now: Date, allowed?: (model: Model) => boolean): Resolved {
  const found = findModel(catalog, name)
  if (!found || (allowed && !allowed(found.model))) return { missing: name }
  const state = deprecationState(found.model, now)
  if (state.state === 'retired') return { retired: name, sunset: state.sunset, replacement: state.replacement }
  if (!found.model.active) return { missing: name }
  return { model: found.model }
}

/** The model of a resolution, or OpenAI's words for why there is none: 404 `model_not_found`, 410 `model_retired` naming the replacement. */
export function resolvedModel(r: Resolved, param = 'model'): Model {
  if ('model' in r) return r.model
  if ('missing' in r) throw httpError(404, `The model '${r.missing}' does not exist or you do not have access to it.`, { code: 'model_not_found', param })
  const instead = r.replacement ? ` Use ${r.replacement} instead.` : ''
  throw httpError(410, `The model '${r.retired}' was retired on ${r.sunset}.${instead}`, { code: 'model_retired', param })
}
