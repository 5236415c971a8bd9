import { createHash } from 'node:crypto'
import type { Model } from '../catalog/types.ts'
import type { Policy, Team } from './types.ts'

const byHash = new WeakMap<Policy, ReadonlyMap<string, Team>>()
const globs = new WeakMap<Team, readonly RegExp[]>()

/** Whether the policy names any team (then every client key is a team's, or one of GATEWAY_API_KEYS). */
export function hasTeams(policy: Policy): boolean {
  return Object.keys(policy.teams).length > 0
}

/**
 * The team whose key `token` is: its SHA-256 looked up among the teams' hashes. A lookup by
 * digest tells a timing observer nothing about the key; the key itself is never kept.
 */
export function teamOf(policy: Policy, token: string): Team | undefined {
  let map = byHash.get(policy)
  if (!map) {
    map = new Map(Object.values(policy.teams).flatMap((t) => t.keys_sha256.map((h) => [h, t] as const)))
    byHash.set(policy, map)
  }
  return map.get(createHash('sha256').update(token).digest('hex'))
}

/**
 * Whether `team` may see and call `model`: it is on the team's list (by id; a dated snapshot by
 * the model it behaves as) or matches one of its globs, and it is not experimental unless the
 * team takes experimental models (or they are exposed to everyone).
 */
export function mayUse(team: Team, model: Model, exposeExperimental: boolean): boolean {
  if (model.experimental && !team.experimental && !exposeExperimental) return false
  if (!team.models) return true
  if (team.models.includes(model.like ?? model.id)) return true
  let res = globs.get(team)
  if (!res) globs.set(team, (res = (team.globs ?? []).map(_glob)))
  return res.some((re) => re.test(model.like ?? model.id)) // a snapshot as the model it behaves as
}

/** Whether the glob (`claude-*`: `*` is any run of characters) matches the whole id. */
export function globMatches(glob: string, id: string): boolean {
  return _glob(glob).test(id)
}

function _glob(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`)
}
