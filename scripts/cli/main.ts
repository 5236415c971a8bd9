import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { compileCatalog, issueReport } from '../compiler/compile.ts'
import { catalogSchema } from '../compiler/schema.ts'
import { parseSource } from '../compiler/source.ts'
import { compileTeams } from '../compiler/teams.ts'
import { checkUpstream } from './check-upstream.ts'
import { lifecycleReport } from './lifecycle.ts'
import { catalogDiff } from './diff.ts'
import type { RawCatalog } from './diff.ts'
import { utcDay } from '../../src/catalog/deprecation.ts'
import { addModel, addTeamKey, CliError, editCatalog, modelNode, newDeprecation, setField } from './edit.ts'

export const USAGE = `Usage: npm run catalog -- <command> [options]

Commands:
  validate [file] [--teams teams.yaml]  check a catalog (default models.yaml, and teams.yaml beside it); errors as FILE:LINE:COL
  add <id> --provider P --name N --kind K --apis a,b [--<field> value ...]
  add <id> --from model.json            add a model (experimental until promoted)
  promote <id>                          experimental -> production
  deactivate <id>                       neither listed nor callable (active: false)
  deprecate <id> --sunset YYYY-MM-DD [--replacement <id>] [--announced YYYY-MM-DD]
  lifecycle [--within DAYS]             what retires when (soonest first), each replacement, days left; experimental models
  team-key <team> [--teams teams.yaml]  make a client key for a team: printed once, its SHA-256 added to teams.yaml
  diff <git-ref>                        Markdown summary of what models.yaml changes against <git-ref>
  check-upstream [provider] [--fix]     compare the catalog with the models each configured provider serves and
                                        the shutdown dates it announces; --fix writes the announced dates

Options:
  --file <path>   the catalog to edit or diff (default models.yaml)

Fields for add are the model fields of schema/models.schema.json in kebab-case
(--context-window 200000); lists are comma-separated (--apis chat,responses); pricing
and deprecation take JSON (--pricing '{"input":1,"output":4}').`

/** What the CLI touches outside itself; tests pass their own. */
export interface Io {
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly now: Date
  readonly out: (line: string) => void
  readonly err: (line: string) => void
}

type ModelField = { readonly type?: string; readonly $ref?: string }
const MODEL_FIELDS = (catalogSchema.$defs as Record<string, { properties: Record<string, ModelField> }>).model!.properties

/** Runs one catalog command; resolves to the exit code (0 done, 1 catalog problem, 2 usage). */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  try {
    const [command, ...rest] = argv
    switch (command) {
      case 'validate':
        return _validate(rest, io)
      case 'add':
        return _add(rest, io)
      case 'promote':
      case 'deactivate':
      case 'deprecate':
        return _lifecycle(command, rest, io)
      case 'diff':
        return _diff(rest, io)
      case 'check-upstream':
        return await _checkUpstream(rest, io)
      case 'lifecycle':
        return _lifecycleView(rest, io)
      case 'team-key':
        return _teamKey(rest, io)
      default:
        throw new CliError(command ? `unknown command ${command}` : 'no command given', 2)
    }
  } catch (error) {
    if (!(error instanceof CliError)) throw error
    io.err(error.message)
    if (error.code === 2) io.err(`\n${USAGE}`)
    return error.code
  }
}

type Parsed = { values: Record<string, string | undefined>; positionals: string[]; flags: ReadonlySet<string> }

function _parse(args: readonly string[], names: readonly string[], positionals: number, optional = 0, flags: readonly string[] = []): Parsed {
  let parsed: Parsed
  try {
    const options = Object.fromEntries([...['file', ...names].map((n) => [n, { type: 'string' as const }]), ...flags.map((n) => [n, { type: 'boolean' as const }])])
    const { values, positionals: given } = parseArgs({ args: [...args], options, allowPositionals: true, strict: true })
    const set = new Set(flags.filter((f) => (values as Record<string, unknown>)[f] === true))
    parsed = { values: Object.fromEntries(Object.entries(values).filter(([k]) => !flags.includes(k))) as Record<string, string>, positionals: given, flags: set }
  } catch (error) {
    throw new CliError((error as Error).message.replace(/^Unknown option '([^']+)'.*/s, 'unknown option $1'), 2)
  }
  if (parsed.positionals.length < positionals || parsed.positionals.length > positionals + optional) {
    const wanted = optional ? `${positionals} to ${positionals + optional} arguments` : `${positionals} argument${positionals === 1 ? '' : 's'}`
    throw new CliError(`expected ${wanted}, got ${parsed.positionals.length}`, 2)
  }
  return parsed
}

function _validate(args: readonly string[], io: Io): number {
  const { values, positionals } = _parse(args, ['teams'], 0, 1)
  const file = positionals[0] ?? values.file ?? 'models.yaml'
  const annotate = io.env.GITHUB_ACTIONS === 'true'
  const print = (report: { stdout: string[]; stderr: string[] }) => (report.stdout.forEach(io.out), report.stderr.forEach(io.err))
  const result = compileCatalog(_read(io, file), file, io.now)
  if (!result.ok) return print(issueReport(file, result.errors, annotate)), 1
  if (result.warnings.length) print(issueReport(file, result.warnings, annotate, 'warning'))
  const c = result.catalog
  io.out(`${file}: valid: ${Object.keys(c.models).length} models, ${Object.keys(c.providers).length} providers, ${c.patterns.length} patterns; version ${c.version}`)
  // The access policy beside it (or the one --teams names), checked against this catalog.
  const teams = values.teams ?? (existsSync(_path(io, 'teams.yaml')) && !positionals[0] && !values.file ? 'teams.yaml' : undefined)
  if (!teams) return 0
  const policy = compileTeams(_read(io, teams), c, teams, file)
  if (!policy.ok) return print(issueReport(teams, policy.errors, annotate)), 1
  io.out(`${teams}: valid: ${Object.keys(policy.policy.teams).length} teams; version ${policy.policy.version}`)
  return 0
}

function _add(args: readonly string[], io: Io): number {
  const { values, positionals } = _parse(args, ['from', ...Object.keys(MODEL_FIELDS).map(_flag)], 1)
  const id = positionals[0]!
  const given: Record<string, unknown> = values.from ? _json(_read(io, values.from), `--from ${values.from}`) : {}
  for (const [field, schema] of Object.entries(MODEL_FIELDS)) {
    const raw = values[_flag(field)]
    if (raw !== undefined) given[field] = _value(field, schema, raw)
  }
  given.experimental ??= true
  if (given.experimental === true) given.experimental_since ??= utcDay(io.now)
  // Schema order, as the file writes models; fields the schema lacks go last for it to name.
  const order = [...Object.keys(MODEL_FIELDS), ...Object.keys(given)]
  const fields = Object.fromEntries(order.filter((f) => f in given).map((f) => [f, given[f]]))
  const file = values.file ?? 'models.yaml'
  io.out(
    editCatalog(_path(io, file), file, io.now, (doc, models) => {
      if (models.has(id)) throw new CliError(`${id}: already in ${file}; edit it there`, 1)
      addModel(doc, models, id, fields)
      return fields.experimental === true ? `added ${id} as experimental; when it is ready: npm run catalog -- promote ${id}` : `added ${id}`
    }),
  )
  return 0
}

function _lifecycle(command: 'promote' | 'deactivate' | 'deprecate', args: readonly string[], io: Io): number {
  const { values: v, positionals } = _parse(args, command === 'deprecate' ? ['sunset', 'replacement', 'announced'] : [], 1)
  const id = positionals[0]!
  const file = v.file ?? 'models.yaml'
  io.out(
    editCatalog(_path(io, file), file, io.now, (doc, models) => {
      const model = modelNode(models, id, file)
      if (command === 'promote') {
        if (model.get('experimental') !== true) throw new CliError(`${id}: not experimental, nothing to promote`, 1)
        const removed = ['experimental', 'experimental_since', 'stability'].filter((field) => model.delete(field))
        return `promoted ${id} to production (removed ${removed.join(', ')})`
      }
      if (command === 'deactivate') {
        if (model.get('active') === false) throw new CliError(`${id}: already inactive`, 1)
        setField(doc, model, 'active', false)
        return `deactivated ${id}: it is neither listed nor callable`
      }
      if (!v.sunset) throw new CliError('deprecate needs --sunset YYYY-MM-DD', 2)
      const today = utcDay(io.now)
      const d = newDeprecation(model, v.sunset, { announced: v.announced, replacement: v.replacement }, today < v.sunset ? today : undefined)
      setField(doc, model, 'deprecation', d)
      return `deprecated ${id}: sunset ${d.sunset}${d.replacement ? `, replacement ${d.replacement}` : ''}`
    }),
  )
  return 0
}

function _diff(args: readonly string[], io: Io): number {
  const { values, positionals } = _parse(args, [], 1)
  const file = values.file ?? 'models.yaml'
  const ref = positionals[0]!
  let old: string
  try {
    old = execFileSync('git', ['show', `${ref}:./${file}`], { cwd: io.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '')
    if (!/exists on disk, but not in|does not exist in/.test(stderr)) throw new CliError(`git cannot show ${file} at ${ref}: ${stderr.trim()}`, 2)
    old = 'models: {}\n' // the file is new in this change
  }
  const before = parseSource(old)
  const after = parseSource(_read(io, file))
  if (after.issues.length) throw new CliError(`${file} does not parse: run npm run catalog -- validate`, 1)
  io.out(catalogDiff((before.data ?? {}) as RawCatalog, after.data as RawCatalog))
  return 0
}

async function _checkUpstream(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals, flags } = _parse(args, [], 0, 1, ['fix'])
  const file = values.file ?? 'models.yaml'
  const result = compileCatalog(_read(io, file), file, io.now)
  if (!result.ok) throw new CliError(`${file} is not valid: run npm run catalog -- validate`, 1)
  const check = await checkUpstream(result.catalog, io.env, io.now, positionals[0])
  check.lines.forEach(io.out)
  if (!flags.has('fix')) return check.problems + check.drift.length > 0 ? 1 : 0
  // Each announced date written on its own (with the comment-keeping editor), so that one that
  // would break a rule is named and the others still land. No notice date is made up: the
  // provider's model list gives none, so a new deprecation is written without `announced`.
  let failed = check.problems
  for (const d of check.drift) {
    try {
      editCatalog(_path(io, file), file, io.now, (doc, models) => {
        const model = modelNode(models, d.model, file)
        setField(doc, model, 'deprecation', newDeprecation(model, d.announced))
        return ''
      })
      io.out(`fixed ${d.model}: sunset ${d.announced} in ${file}`)
    } catch (error) {
      if (!(error instanceof CliError)) throw error
      failed++
      io.err(`could not fix ${d.model}:\n${error.message}`)
    }
  }
  return failed > 0 ? 1 : 0
}

function _lifecycleView(args: readonly string[], io: Io): number {
  const { values } = _parse(args, ['within'], 0)
  const file = values.file ?? 'models.yaml'
  const within = values.within === undefined ? undefined : Number(values.within)
  if (values.within !== undefined && !/^\d{1,5}$/.test(values.within)) throw new CliError(`--within takes a number of days, got ${JSON.stringify(values.within)}`, 2)
  const result = compileCatalog(_read(io, file), file, io.now)
  if (!result.ok) throw new CliError(`${file} is not valid: run npm run catalog -- validate`, 1)
  lifecycleReport(result.catalog, io.now, within).forEach(io.out)
  return 0
}

function _teamKey(args: readonly string[], io: Io): number {
  const { values, positionals } = _parse(args, ['teams'], 1)
  const teams = values.teams ?? 'teams.yaml'
  const file = values.file ?? 'models.yaml'
  const result = compileCatalog(_read(io, file), file, io.now)
  if (!result.ok) throw new CliError(`${file} is not valid: run npm run catalog -- validate`, 1)
  const key = `sk-gw-${randomBytes(32).toString('base64url')}`
  addTeamKey(_path(io, teams), teams, result.catalog, positionals[0]!, createHash('sha256').update(key).digest('hex'))
  io.out(`A new key for team ${positionals[0]}; it is shown this once, keep it secret (${teams} holds only its SHA-256):`)
  io.out(key)
  return 0
}

function _flag(field: string): string {
  return field.replaceAll('_', '-')
}

function _value(field: string, schema: ModelField, raw: string): unknown {
  const type = schema.type ?? (schema.$ref?.endsWith('/pricing') || schema.$ref?.endsWith('/deprecation') ? 'object' : 'string')
  if (type === 'array') return raw.split(',').map((s) => s.trim()).filter(Boolean).map((s) => (field === 'temperatures' ? Number(s) : s))
  if (type === 'integer' || type === 'number') {
    const n = Number(raw)
    if (raw.trim() === '' || Number.isNaN(n)) throw new CliError(`--${_flag(field)} takes a number, got ${JSON.stringify(raw)}`, 2)
    return n
  }
  if (type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw new CliError(`--${_flag(field)} takes true or false, got ${JSON.stringify(raw)}`, 2)
    return raw === 'true'
  }
  if (type === 'object') return _json(raw, `--${_flag(field)}`)
  return raw
}

function _json(text: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {}
  throw new CliError(`${what} must be a JSON object`, 2)
}

function _path(io: Io, file: string): string {
  return resolve(io.cwd, file)
}

function _read(io: Io, file: string): string {
  try {
    return readFileSync(_path(io, file), 'utf8')
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 1)
  }
}
