import { describe, expect, it } from 'vitest'
import { compileTeams } from '../../scripts/compiler/teams.ts'
import { proxyCatalog } from '../_setup.ts'

const HASH = 'a'.repeat(64)
const errors = (text: string) => {
  const result = compileTeams(text, proxyCatalog)
  if (result.ok) throw new Error('expected errors, but the teams compiled')
  return result.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.subject}: ${e.message}`)
}
const team = (fields: string) => `teams:\n  platform:\n    keys_sha256: [${HASH}]\n${fields}`

describe('teams.yaml', () => {
  it('compiles: aliases resolve to catalog ids, globs stay globs, per-model limits by catalog id', () => {
    const result = compileTeams(team('    models: [chat-latest, "th*"]\n    limits: {rpm: 10, models: {chat-latest: {tpm: 500}}}\n    budget: 20\n'), proxyCatalog)
    expect(result.ok && result.policy.teams.platform).toEqual({ id: 'platform', keys_sha256: [HASH], models: ['chat'], globs: ['th*'], experimental: false, limits: { rpm: 10, models: { chat: { tpm: 500 } } }, budget: 20 })
    expect(compileTeams('teams: {}\n', proxyCatalog)).toMatchObject({ ok: true, policy: { teams: {} } })
  })

  it.each([
    ['a model that is not in the catalog, naming both files', team('    models: [chat, gpt-9]\n'), 'teams.yaml:4:20: platform: models[1] gpt-9 is not a model id or alias in models.yaml'],
    ['a glob that matches no model', team('    models: ["zz*"]\n'), 'teams.yaml:4:14: platform: models[0] zz* matches no model in models.yaml'],
    ['a per-model limit on an unknown model', team('    limits: {models: {nope: {rpm: 1}}}\n'), 'teams.yaml:4:23: platform: limits.models: nope is not a model id or alias in models.yaml'],
    ['a per-model limit on a glob', team('    limits: {models: {"c*": {rpm: 1}}}\n'), 'teams.yaml:4:23: platform: limits.models: c* is a glob; per-model limits take a model id or alias'],
    ['a key hash that is not SHA-256 hex', 'teams:\n  platform:\n    keys_sha256: [not-a-hash]\n', 'teams.yaml:3:19: platform: keys_sha256[0] must match pattern "^[0-9a-f]{64}$" (got string "not-a-hash")'],
    ['a key in two teams', `teams:\n  a:\n    keys_sha256: [${HASH}]\n  b:\n    keys_sha256: [${HASH}]\n`, 'teams.yaml:5:19: b: keys_sha256[0] is already a key of team a: a key belongs to one team'],
    ['a team without keys', 'teams:\n  platform:\n    models: [chat]\n', 'teams.yaml:2:3: platform: missing required field keys_sha256'],
    ['a limit of zero', team('    limits: {rpm: 0}\n'), 'teams.yaml:4:14: platform: limits.rpm must be at least 1 (got 0)'],
    ['a misspelt field', team('    budgets: 5\n'), 'teams.yaml:4:5: platform: unknown field budgets (did you mean budget?)'],
    ['a negative budget', team('    budget: -1\n'), 'teams.yaml:4:5: platform: budget must be at least 0 (got -1)'],
    ['a bad team id', `teams:\n  Platform Team:\n    keys_sha256: [${HASH}]\n`, 'teams.yaml:2:3: Platform Team: "Platform Team" is not a valid team id (lowercase letters, digits, `_` and `-`, starting with a letter; it names the team in /metrics and /api/stats.)'],
    ['empty limits', team('    limits: {}\n'), 'teams.yaml:4:5: platform: limits must define at least 1'],
    ['an empty model list', team('    models: []\n'), 'teams.yaml:4:5: platform: models must not be empty'],
    ['a budget in quotes', team('    budget: "5"\n'), 'teams.yaml:4:5: platform: budget must be a number (got string "5")'],
    ['a YAML 1.1 boolean', team('    experimental: yes\n'), 'teams.yaml:4:19: platform: yes is a boolean in YAML 1.1 but a string in YAML 1.2: write true/false, or quote it if you mean the text'],
  ])('rejects %s with teams.yaml:LINE:COL and a sentence', (_, text, message) => {
    expect(errors(text)).toEqual([message])
  })
})
