import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import type { ErrorObject } from 'ajv'
import type { DataPath, Issue } from './source.ts'

/** The catalog's JSON Schema, as committed in schema/models.schema.json. */
export const catalogSchema = JSON.parse(
  readFileSync(new URL('../../schema/models.schema.json', import.meta.url), 'utf8'),
) as Record<string, unknown>

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** Whether `s` is a real calendar date written `YYYY-MM-DD`. */
export function isDate(s: string): boolean {
  const m = DATE.exec(s)
  if (!m) return false
  const d = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(d.getTime()) && d.getUTCDate() === Number(m[3])
}

// Strict: unknown keywords in the schema are bugs. No coercion and no injected defaults:
// what models.yaml says is what the catalog holds. Verbose: errors carry the data, for messages.
const ajv = new Ajv({ strict: true, allErrors: true, verbose: true, coerceTypes: false, useDefaults: false })
ajv.addFormat('date', { type: 'string', validate: isDate })

/** The access policy's JSON Schema, as committed in schema/teams.schema.json. */
export const teamsSchema = JSON.parse(
  readFileSync(new URL('../../schema/teams.schema.json', import.meta.url), 'utf8'),
) as Record<string, unknown>

// Each file's schema, its sections of entries keyed by id, and what each section's ids are.
const FILES = {
  catalog: { validate: ajv.compile(catalogSchema), schema: catalogSchema, ids: { providers: 'provider_id', models: 'model_id', patterns: '' } },
  teams: { validate: ajv.compile(teamsSchema), schema: teamsSchema, ids: { teams: 'team_id' } },
} as const

type File = (typeof FILES)[keyof typeof FILES]

/** Validates parsed catalog (or, with `teams`, access policy) data against its schema; each error becomes a sentence. */
export function schemaIssues(data: unknown, which: keyof typeof FILES = 'catalog'): Issue[] {
  const file = FILES[which]
  if (file.validate(data)) return []
  return _dedupe(file.validate.errors ?? []).map((e) => _issue(e, file))
}

function _issue(e: ErrorObject, file: File): Issue {
  const path: (string | number)[] = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
  const field = _fieldName(path, Object.keys(file.ids))
  const p = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required':
      return { path, message: `missing required field ${p.missingProperty}${field.startsWith('the ') ? '' : ` in ${field}`}` }
    case 'additionalProperties': {
      const name = String(p.additionalProperty)
      const known = Object.keys((e.parentSchema?.properties ?? {}) as object)
      const guess = _closest(name, known)
      return { path: [...path, name], message: `unknown field ${name}${guess ? ` (did you mean ${guess}?)` : ` (known: ${known.join(', ')})`}` }
    }
    case 'propertyNames': {
      // An entry id (provider, model, team), or a model named inside an entry (a team's limits).
      const def = path.length === 1 ? (file.ids as Record<string, string>)[String(path[0])] || 'model_id' : 'model_ref'
      const what = def.replace(/_(id|ref)$/, '').replaceAll('_', ' ')
      return { path: [...path, String(p.propertyName)], message: `${JSON.stringify(p.propertyName)} is not a valid ${what} ${def.endsWith('_ref') ? 'reference' : 'id'} (${(_def(file, def).description as string).replace(/^An? [a-z ]+(id|ref): /, '')})` }
    }
    case 'enum':
      return { path, message: `${field} must be one of ${(p.allowedValues as unknown[]).join(', ')} (got ${JSON.stringify(e.data)})` }
    case 'type':
      return { path, message: `${field} must be ${_article(String(p.type))} (got ${_describe(e.data)})` }
    case 'format':
      return { path, message: `${field} must be a real date written YYYY-MM-DD (got ${JSON.stringify(e.data)})` }
    case 'uniqueItems':
      return { path, message: `${field} lists ${JSON.stringify((e.data as unknown[])[p.j as number])} twice` }
    case 'minItems':
      return { path, message: `${field} must not be empty` }
    case 'minProperties':
      return { path, message: `${field} must define at least ${p.limit}` }
    case 'minimum':
    case 'maximum':
      return { path, message: `${field} must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${p.limit} (got ${e.data})` }
    default:
      return { path, message: `${field} ${e.message ?? 'is invalid'}${e.data === undefined ? '' : ` (got ${_describe(e.data)})`}` }
  }
}

// `propertyNames` failures also report the failing `pattern` under a synthetic path; keep one.
function _dedupe(errors: ErrorObject[]): ErrorObject[] {
  const names = errors.filter((e) => e.keyword === 'propertyNames')
  return errors.filter((e) => !(names.length && e.keyword === 'pattern' && e.propertyName !== undefined))
}

function _def(file: File, name: string): Record<string, unknown> {
  return (file.schema.$defs as Record<string, Record<string, unknown>>)[name]!
}

/** `pricing.input`, `apis[1]`: the path below the entry (model, provider, pattern, team) it belongs to. */
function _fieldName(path: DataPath, sections: readonly string[]): string {
  const entry = path.length >= 2 && sections.includes(String(path[0]))
  const rest = path.slice(entry ? 2 : 0)
  if (rest.length === 0) return entry ? `the ${String(path[0]).slice(0, -1)}` : 'the file'
  return rest.map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('')
}

function _article(type: string): string {
  return { integer: 'an integer', array: 'a list', object: 'a map' }[type] ?? `a ${type}`
}

function _describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a map'
  return `${typeof v} ${JSON.stringify(v)}`
}

function _closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const c of candidates) {
    if (c.startsWith(name) || name.startsWith(c)) return c
    const d = _distance(name, c)
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return best
}

function _distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]!
}
