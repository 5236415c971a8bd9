import { createHash } from 'node:crypto'
import type { Catalog } from '../../src/catalog/types.ts'
import type { Policy, Team, TeamsFile } from '../../src/policy/types.ts'
import type { CatalogError } from './compile.ts'
import { globMatches } from '../../src/policy/access.ts'
import { located } from './compile.ts'
import { schemaIssues } from './schema.ts'
import { parseSource } from './source.ts'
import type { Issue } from './source.ts'

export type TeamsResult =
  | { readonly ok: true; readonly policy: Policy; readonly errors: readonly [] }
  | { readonly ok: false; readonly policy?: undefined; readonly errors: readonly CatalogError[] }

/**
 * Compiles teams.yaml against a compiled catalog: parse (as the catalog is), validate against
 * schema/teams.schema.json, then check every model it names against models.yaml (ids and aliases
 * resolve to catalog ids; a glob must match some model). Every error at once, by position.
 */
export function compileTeams(text: string, catalog: Catalog, file = 'teams.yaml', catalogFile = 'models.yaml'): TeamsResult {
  const source = parseSource(text)
  let issues = source.issues
  if (issues.length === 0) issues = schemaIssues(source.data, 'teams')
  if (issues.length === 0) issues = _ruleIssues(source.data as TeamsFile, catalog, catalogFile)
  if (issues.length > 0) return { ok: false, errors: located(source, file, issues) }
  return { ok: true, policy: _resolve(source.data as TeamsFile, catalog), errors: [] }
}

function _ruleIssues(data: TeamsFile, catalog: Catalog, catalogFile: string): Issue[] {
  const issues: Issue[] = []
  const ids = Object.keys(catalog.models)
  const owners = new Map<string, string>()
  for (const [id, team] of Object.entries(data.teams)) {
    team.keys_sha256.forEach((hash, i) => {
      if (owners.has(hash)) issues.push({ path: ['teams', id, 'keys_sha256', i], message: `keys_sha256[${i}] is already a key of team ${owners.get(hash)}: a key belongs to one team` })
      else owners.set(hash, id)
    })
    const check = (ref: string, path: (string | number)[], what: string) => {
      if (ref.includes('*')) {
        if (!ids.some((m) => globMatches(ref, m))) issues.push({ path, message: `${what} ${ref} matches no model in ${catalogFile}` })
      } else if (!_canonical(catalog, ref)) {
        issues.push({ path, message: `${what} ${ref} is not a model id or alias in ${catalogFile}` })
      }
    }
    team.models?.forEach((ref, i) => check(ref, ['teams', id, 'models', i], `models[${i}]`))
    for (const ref of Object.keys(team.limits?.models ?? {})) {
      const path = ['teams', id, 'limits', 'models', ref]
      if (ref.includes('*')) issues.push({ path, message: `limits.models: ${ref} is a glob; per-model limits take a model id or alias` })
      else check(ref, path, 'limits.models:')
    }
  }
  return issues
}

function _canonical(catalog: Catalog, ref: string): string | undefined {
  if (Object.hasOwn(catalog.models, ref)) return ref
  return Object.hasOwn(catalog.aliases, ref) ? catalog.aliases[ref] : undefined
}

function _resolve(data: TeamsFile, catalog: Catalog): Policy {
  const teams: Record<string, Team> = {}
  for (const [id, t] of Object.entries(data.teams)) {
    const refs = t.models ?? []
    const models = [...new Set(refs.filter((r) => !r.includes('*')).map((r) => _canonical(catalog, r)!))]
    const globs = refs.filter((r) => r.includes('*'))
    const perModel = Object.fromEntries(Object.entries(t.limits?.models ?? {}).map(([ref, rates]) => [_canonical(catalog, ref)!, rates]))
    teams[id] = {
      id,
      ...(t.name !== undefined && { name: t.name }),
      keys_sha256: t.keys_sha256,
      ...(t.models && { models, globs }),
      experimental: t.experimental ?? false,
      limits: { ...(t.limits?.rpm && { rpm: t.limits.rpm }), ...(t.limits?.tpm && { tpm: t.limits.tpm }), models: perModel },
      ...(t.budget !== undefined && { budget: t.budget }),
    }
  }
  const version = createHash('sha256').update(JSON.stringify(teams)).digest('hex').slice(0, 16)
  return { version, teams }
}
