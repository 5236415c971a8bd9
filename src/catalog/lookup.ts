import { resolveModel } from './model.ts'
import type { Catalog, Model, PatternEntry } from './types.ts'

/** How a requested name was found: as a model id, an alias, or through a pattern. */
export interface Resolution {
  readonly model: Model
  readonly via: 'id' | 'alias' | 'pattern'
}

/** Characters no model id has (CR, LF, NUL and the other controls): a name with one is refused, not looked up. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/

// Ids are at most 256 characters (see the schema); longer names cannot match and are not tried.
const MAX_ID_LENGTH = 256

const compiled = new WeakMap<Catalog, readonly RegExp[]>()

/** A pattern's `match` as it runs: against the whole id, whatever anchors it has or lacks. */
export function patternRegExp(source: string): RegExp {
  return new RegExp(`^(?:${source})$`)
}

/**
 * Finds the model a client means by `name`: the exact id first, then an alias, then the first
 * pattern whose regex matches the whole name. `undefined` when nothing does (a 404 `model_not_found`). Inactive and
 * retired models are found too: whether they may be called is the caller's rule.
 */
export function findModel(catalog: Catalog, name: string): Resolution | undefined {
  if (name.length > MAX_ID_LENGTH) return undefined
  const listed = _listed(catalog, name)
  if (listed) return listed
  const regexes = compiled.get(catalog) ?? _compile(catalog)
  for (const [i, re] of regexes.entries()) {
    const match = re.exec(name)
    if (!match) continue
    const model = _fromPattern(catalog, catalog.patterns[i]!, name, match)
    if (model) return { model, via: 'pattern' }
  }
  return undefined
}

function _listed(catalog: Catalog, name: string): Resolution | undefined {
  // Own properties only: `constructor` or `__proto__` must not find Object.prototype's.
  if (Object.hasOwn(catalog.models, name)) return { model: catalog.models[name]!, via: 'id' }
  if (Object.hasOwn(catalog.aliases, name)) return { model: catalog.models[catalog.aliases[name]!]!, via: 'alias' }
  return undefined
}

function _compile(catalog: Catalog): readonly RegExp[] {
  const regexes = catalog.patterns.map((p) => patternRegExp(p.match))
  compiled.set(catalog, regexes)
  return regexes
}

function _fromPattern(catalog: Catalog, p: PatternEntry, name: string, match: RegExpExecArray): Model | undefined {
  if (p.like !== undefined) {
    const template = _listed(catalog, p.like.replaceAll(/\$(\d)/g, (_, n: string) => match[Number(n)] ?? ''))?.model
    if (!template) return undefined
    // Everything but identity, deprecation included: a snapshot of a retired model is retired.
    // Its own id goes to the model's provider: the deployments serve the model's ids, not it.
    const { deployments: _d, ...fields } = template
    return { ...fields, id: name, name, upstream_id: name, aliases: [], pattern: p.match, like: template.id }
  }
  const { match: _m, description, like: _l, ...fields } = p
  return { ...resolveModel(name, { ...fields, name, description, provider: p.provider!, kind: p.kind!, apis: p.apis! }), pattern: p.match }
}
