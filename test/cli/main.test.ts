import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { main } from '../../scripts/cli/main.ts'

const fixture = new URL('../fixtures/commented.yaml', import.meta.url)
const original = readFileSync(fixture, 'utf8')
let dir: string
let file: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'catalog-cli-'))
  file = join(dir, 'models.yaml')
  copyFileSync(fixture, file)
})

async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(args, { cwd: dir, env, now: new Date('2026-11-21T10:00:00Z'), out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

const current = () => readFileSync(file, 'utf8')
// The fixture with `chat` lines after acme-chat's last field and `next` lines after acme-next's experimental flag.
const withFields = (chat: string, next = '') =>
  original.replace('    pricing: {input: 2.5, output: 10}\n', `    pricing: {input: 2.5, output: 10}\n${chat}`).replace('    experimental: true # remove when promoted\n', `    experimental: true # remove when promoted\n${next}`)

describe('validate', () => {
  it('passes a valid catalog and says what it holds', async () => {
    expect(await run(['validate'])).toEqual({
      code: 0,
      out: expect.stringMatching(/^models\.yaml: valid: 2 models, 1 providers, 0 patterns; version [0-9a-f]{16}$/),
      err: 'warning: models.yaml:32:5: acme-next: experimental since an unrecorded day: add experimental_since (YYYY-MM-DD), so that a long experiment is noticed\nmodels.yaml: 1 warning',
    })
  })

  it('fails with every error as FILE:LINE:COL, and annotations on GitHub Actions', async () => {
    writeFileSync(join(dir, 'bad.yaml'), original.replace('context_window: 200000', 'contxt_window: 200000').replace('max_output: 16384', 'max_output: 999999'))
    const result = await run(['validate', 'bad.yaml'], { GITHUB_ACTIONS: 'true' })
    expect(result.code).toBe(1)
    expect(result.err).toBe(
      'bad.yaml:19:5: acme-chat: max_output (999999) exceeds context_window (128000)\n' +
        'bad.yaml:31:5: acme-next: unknown field contxt_window (did you mean context_window?)\n' +
        'bad.yaml: 2 errors',
    )
    expect(result.out).toBe(
      '::error file=bad.yaml,line=19,col=5::acme-chat: max_output (999999) exceeds context_window (128000)\n' +
        '::error file=bad.yaml,line=31,col=5::acme-next: unknown field contxt_window (did you mean context_window?)',
    )
  })

  it('takes the file as --file too', async () => {
    copyFileSync(fixture, join(dir, 'other.yaml'))
    expect((await run(['validate', '--file', 'other.yaml'])).out).toMatch(/^other\.yaml: valid: 2 models/)
    expect(await run(['validate', 'a.yaml', 'b.yaml'])).toMatchObject({ code: 2, err: expect.stringMatching(/^expected 0 to 1 arguments, got 2\n/) })
  })

  it('warns (exit 0) about old verifications, long-retired active models and long experiments, with lines and annotations', async () => {
    writeFileSync(file, withFields('    deprecation: {sunset: 2026-10-01, replacement: acme-next}\n    verified: 2026-08-01\n', '    experimental_since: 2026-09-01\n    stability: beta\n'))
    const result = await run(['validate'], { GITHUB_ACTIONS: 'true' })
    expect(result.code).toBe(0)
    expect(result.err).toBe(
      'warning: models.yaml:21:19: acme-chat: retired on 2026-10-01, 51 days ago: set active: false (npm run catalog -- deactivate acme-chat); it keeps answering 410 naming its replacement\n' +
        'warning: models.yaml:22:5: acme-chat: verified 2026-08-01, 112 days ago (more than 90): check the figures against its sources and update verified\n' +
        'warning: models.yaml:35:5: acme-next: experimental since 2026-09-01, 81 days (more than 60): promote it (npm run catalog -- promote acme-next) or retire it\n' +
        'models.yaml: 3 warnings',
    )
    expect(result.out.split('\n')).toEqual([
      '::warning file=models.yaml,line=21,col=19::acme-chat: retired on 2026-10-01, 51 days ago: set active: false (npm run catalog -- deactivate acme-chat); it keeps answering 410 naming its replacement',
      '::warning file=models.yaml,line=22,col=5::acme-chat: verified 2026-08-01, 112 days ago (more than 90): check the figures against its sources and update verified',
      '::warning file=models.yaml,line=35,col=5::acme-next: experimental since 2026-09-01, 81 days (more than 60): promote it (npm run catalog -- promote acme-next) or retire it',
      expect.stringMatching(/^models\.yaml: valid: 2 models/),
    ])
  })

  it('does not warn at the limits, nor about an inactive retired model', async () => {
    writeFileSync(file, withFields('    verified: 2026-08-23\n', '    experimental_since: 2026-09-22\n    active: false\n    deprecation: {sunset: 2026-01-01}\n'))
    expect(await run(['validate'])).toMatchObject({ code: 0, err: '' })
  })

  it('fails clearly on a missing file', async () => {
    expect(await run(['validate', 'nope.yaml'])).toEqual({ code: 1, out: '', err: 'cannot read nope.yaml: ENOENT' })
  })
})

describe('add', () => {
  it('appends the model as experimental, inline and in schema order, touching nothing else', async () => {
    const result = await run(['add', 'acme/mini:1b', '--kind', 'chat', '--name', 'Acme Mini', '--provider', 'acme', '--apis', 'chat', '--context-window', '32000', '--pricing', '{"input":0.1,"output":0.4}', '--temperatures', '0,1'])
    expect(result).toEqual({ code: 0, out: 'added acme/mini:1b as experimental; when it is ready: npm run catalog -- promote acme/mini:1b', err: '' })
    expect(current()).toBe(
      `${original}\n  acme/mini:1b:\n    name: Acme Mini\n    provider: acme\n    kind: chat\n    apis: [chat]\n    context_window: 32000\n    pricing: {input: 0.1, output: 0.4}\n    temperatures: [0, 1]\n    experimental: true\n    experimental_since: 2026-11-21\n`,
    )
  })

  it('adds a model from a JSON file', async () => {
    writeFileSync(join(dir, 'm.json'), JSON.stringify({ name: 'From JSON', provider: 'acme', kind: 'embedding', apis: ['embeddings'], experimental: false }))
    expect((await run(['add', 'acme-embed', '--from', 'm.json'])).out).toBe('added acme-embed')
    expect(current()).toBe(`${original}\n  acme-embed:\n    name: From JSON\n    provider: acme\n    kind: embedding\n    apis: [embeddings]\n    experimental: false\n`)
  })

  it.each([
    [['add', 'x', '--name', 'X', '--provider', 'acme', '--apis', 'chat'], 1, 'models.yaml:34:3: x: missing required field kind\nmodels.yaml: not written (the edit would leave 1 error)'],
    [['add', 'x', '--name', 'X', '--provider', 'nobody', '--kind', 'embedding', '--apis', 'chat'], 1, 'models.yaml:36:5: x: provider nobody is not defined under providers (defined: acme)\nmodels.yaml:38:5: x: apis include chat, which an embedding model does not serve (it may serve embeddings)\nmodels.yaml: not written (the edit would leave 2 errors)'],
    [['add', 'acme-chat', '--name', 'X', '--provider', 'acme', '--kind', 'chat', '--apis', 'chat'], 1, 'acme-chat: already in models.yaml; edit it there'],
    [['add', 'x', '--context-window', 'big'], 2, '--context-window takes a number, got "big"'],
    [['add', 'x', '--experimental', 'yes'], 2, '--experimental takes true or false, got "yes"'],
    [['add', 'x', '--pricing', '[1]'], 2, '--pricing must be a JSON object'],
  ])('rejects %j with exit %i, leaving the file untouched', async (args, code, message) => {
    const result = await run(args as string[])
    expect(result.code).toBe(code)
    expect(result.err.split('\n\nUsage:')[0]).toBe(message)
    expect(current()).toBe(original)
  })
})

describe('promote, deactivate, deprecate', () => {
  it('promote removes the experimental flag and only that line', async () => {
    expect((await run(['promote', 'acme-next'])).out).toBe('promoted acme-next to production (removed experimental)')
    expect(current()).toBe(original.replace('    experimental: true # remove when promoted\n', ''))
  })

  it('promote removes the experimental day and stability too', async () => {
    writeFileSync(file, original.replace('    experimental: true # remove when promoted\n', '    experimental: true # remove when promoted\n    experimental_since: 2026-11-01\n    stability: rc\n'))
    expect((await run(['promote', 'acme-next'])).out).toBe('promoted acme-next to production (removed experimental, experimental_since, stability)')
    expect(current()).toBe(original.replace('    experimental: true # remove when promoted\n', ''))
  })

  it('deactivate sets active: false at the end of the entry', async () => {
    expect((await run(['deactivate', 'acme-chat'])).out).toBe('deactivated acme-chat: it is neither listed nor callable')
    expect(current()).toBe(original.replace('output: 10}\n', 'output: 10}\n    active: false\n'))
  })

  it('deprecate records the schedule, announced today by default', async () => {
    expect((await run(['deprecate', 'acme-chat', '--sunset', '2027-03-01', '--replacement', 'acme-next'])).out).toBe('deprecated acme-chat: sunset 2027-03-01, replacement acme-next')
    expect(current()).toBe(original.replace('output: 10}\n', 'output: 10}\n    deprecation: {announced: 2026-11-21, sunset: 2027-03-01, replacement: acme-next}\n'))
  })

  it('deprecate records a shutdown already past without an announcement, and a new sunset keeps the announcement and replacement', async () => {
    expect((await run(['deprecate', 'acme-chat', '--sunset', '2026-01-01'])).out).toBe('deprecated acme-chat: sunset 2026-01-01')
    expect(current()).toBe(original.replace('output: 10}\n', 'output: 10}\n    deprecation: {sunset: 2026-01-01}\n'))
    writeFileSync(file, original.replace('output: 10}\n', 'output: 10}\n    deprecation: {announced: 2026-06-11, sunset: 2026-12-11, replacement: acme-next} # as the notice says\n'))
    expect((await run(['deprecate', 'acme-chat', '--sunset', '2026-12-20'])).out).toBe('deprecated acme-chat: sunset 2026-12-20, replacement acme-next')
    expect(current()).toBe(original.replace('output: 10}\n', 'output: 10}\n    deprecation: {announced: 2026-06-11, sunset: 2026-12-20, replacement: acme-next} # as the notice says\n'))
  })

  it.each([
    [['promote', 'acme-chat'], 1, 'acme-chat: not experimental, nothing to promote'],
    [['promote', 'nobody'], 1, 'nobody: no such model in models.yaml'],
    [['deprecate', 'acme-chat', '--sunset', '2027-03-01', '--replacement', 'nobody'], 1, 'models.yaml:21:62: acme-chat: deprecation.replacement nobody is not a model id in this catalog\nmodels.yaml: not written (the edit would leave 1 error)'],
    [['deprecate', 'acme-chat', '--sunset', '2026-01-01', '--announced', '2026-02-01'], 1, 'models.yaml:21:42: acme-chat: deprecation.sunset (2026-01-01) must be after deprecation.announced (2026-02-01)\nmodels.yaml: not written (the edit would leave 1 error)'],
    [['deprecate', 'acme-chat'], 2, 'deprecate needs --sunset YYYY-MM-DD'],
    [['promote'], 2, 'expected 1 argument, got 0'],
    [['promote', 'acme-next', '--force'], 2, 'unknown option --force'],
    [['frobnicate'], 2, 'unknown command frobnicate'],
    [[], 2, 'no command given'],
  ])('rejects %j with exit %i, leaving the file untouched', async (args, code, message) => {
    const result = await run(args as string[])
    expect(result.code).toBe(code)
    expect(result.err.split('\n\nUsage:')[0]).toBe(message)
    if (code === 2) expect(result.err).toContain('Usage: npm run catalog -- <command>')
    expect(current()).toBe(original)
  })

  it('deactivating a model that another replaces is refused', async () => {
    await run(['deprecate', 'acme-chat', '--sunset', '2027-03-01', '--replacement', 'acme-next'])
    const before = current()
    const result = await run(['deactivate', 'acme-next'])
    expect(result).toMatchObject({ code: 1, err: 'models.yaml:21:62: acme-chat: deprecation.replacement acme-next is inactive\nmodels.yaml: not written (the edit would leave 1 error)' })
    expect(current()).toBe(before)
  })
})

describe('team-key and teams.yaml', () => {
  const teams = () => join(dir, 'teams.yaml')
  const policy = '# Who may call the gateway.\nteams:\n  # The platform team.\n  platform:\n    keys_sha256: [' + 'a'.repeat(64) + '] # one key per service\n    models: [acme-chat]\n'

  it('makes a key, prints it once, and appends its SHA-256 to the team, keeping comments', async () => {
    writeFileSync(teams(), policy)
    const result = await run(['team-key', 'platform'])
    expect(result.code).toBe(0)
    const [said, key] = result.out.split('\n')
    expect(said).toBe('A new key for team platform; it is shown this once, keep it secret (teams.yaml holds only its SHA-256):')
    expect(key).toMatch(/^sk-gw-[A-Za-z0-9_-]{43}$/)
    const hash = createHash('sha256').update(key!).digest('hex')
    expect(readFileSync(teams(), 'utf8')).toBe(policy.replace(`${'a'.repeat(64)}] #`, `${'a'.repeat(64)}, ${hash}] #`))
    expect(readFileSync(teams(), 'utf8')).not.toContain(key)
  })

  it('names a team that is not in teams.yaml, writing nothing', async () => {
    writeFileSync(teams(), policy)
    expect(await run(['team-key', 'nobody'])).toEqual({ code: 1, out: '', err: 'nobody: no such team in teams.yaml; add it (with its models and limits) first' })
    expect(readFileSync(teams(), 'utf8')).toBe(policy)
    writeFileSync(teams(), 'teams: [\n')
    expect(await run(['team-key', 'platform'])).toEqual({ code: 1, out: '', err: 'teams.yaml does not parse: run npm run catalog -- validate' })
  })

  it('validate checks teams.yaml beside the catalog, against it', async () => {
    writeFileSync(teams(), policy)
    expect((await run(['validate'])).out.split('\n').at(-1)).toMatch(/^teams\.yaml: valid: 1 teams; version [0-9a-f]{16}$/)
    writeFileSync(teams(), policy.replace('[acme-chat]', '[acme-chat, acme-gone]'))
    expect(await run(['validate'])).toMatchObject({ code: 1, err: expect.stringContaining('teams.yaml:6:25: platform: models[1] acme-gone is not a model id or alias in models.yaml\nteams.yaml: 1 error') })
  })
})

describe('lifecycle', () => {
  beforeEach(() => {
    writeFileSync(
      file,
      withFields('    deprecation: {announced: 2026-10-01, sunset: 2026-12-11, replacement: acme-next}\n', '    experimental_since: 2026-11-01\n    stability: rc\n') +
        '\n  acme-old:\n    name: Old\n    provider: acme\n    kind: chat\n    apis: [chat]\n    deprecation: {sunset: 2027-03-01}\n' +
        '\n  acme-gone:\n    name: Gone\n    provider: acme\n    kind: chat\n    apis: [chat]\n    active: false\n    deprecation: {sunset: 2026-02-01, replacement: acme-chat}\n',
    )
  })

  it('prints what retires when, soonest first, with each replacement and the days left', async () => {
    expect(await run(['lifecycle'])).toEqual({
      code: 0,
      err: '',
      out: [
        'Retirements (today 2026-11-21): 2',
        '  2026-12-11  in 20 days    acme-chat  -> acme-next, announced 2026-10-01',
        '  2027-03-01  in 100 days   acme-old   -> no replacement named',
        'Retired already: 1 (they answer 410, naming the replacement where one is recorded)',
        'Experimental: 1',
        '  acme-next  rc, since 2026-11-01 (20 days)',
      ].join('\n'),
    })
  })

  it('counts a model retired today as retired, as the gateway does from its sunset day', async () => {
    writeFileSync(file, current().replace('sunset: 2027-03-01}', 'sunset: 2026-11-21}'))
    const lines = (await run(['lifecycle'])).out.split('\n')
    expect(lines[0]).toBe('Retirements (today 2026-11-21): 1')
    expect(lines).toContain('Retired already: 2 (they answer 410, naming the replacement where one is recorded)')
  })

  it('keeps to the next days with --within, and refuses a --within that is not a number of days', async () => {
    expect((await run(['lifecycle', '--within', '30'])).out.split('\n').slice(0, 2)).toEqual(['Retirements within 30 days (today 2026-11-21): 1', '  2026-12-11  in 20 days    acme-chat  -> acme-next, announced 2026-10-01'])
    for (const given of ['soon', '', '1e1', '-3']) {
      const bad = await run(['lifecycle', `--within=${given}`])
      expect(bad.code, given).toBe(2)
      expect(bad.err.split('\n\nUsage:')[0]).toBe(`--within takes a number of days, got ${JSON.stringify(given)}`)
    }
  })
})

describe('diff', () => {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' })

  beforeEach(() => {
    git('init', '-q', '-b', 'main')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'empty')
    git('add', 'models.yaml')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'catalog')
  })

  it('summarises a promotion and a price change, old -> new', async () => {
    await run(['promote', 'acme-next'])
    writeFileSync(file, current().replace('pricing: {input: 2.5, output: 10}', 'pricing: {input: 2, output: 8}'))
    expect(await run(['diff', 'HEAD'])).toEqual({
      code: 0,
      err: '',
      out:
        '### Catalog changes\n\n' +
        '**Promoted** (1)\n- `acme-next`: experimental -> production\n\n' +
        '**Changed fields** (2)\n\n| Entry | Field | Before | After |\n| --- | --- | --- | --- |\n' +
        '| `acme-chat` | pricing.input | 2.5 | 2 |\n| `acme-chat` | pricing.output | 10 | 8 |\n',
    })
  })

  it('shows new sources, a new verified day and price tiers, so the reviewer sees where figures come from', async () => {
    writeFileSync(file, current().replace('    pricing: {input: 2.5, output: 10}\n', '    pricing: {input: 2.5, output: 10, tiers: [{above_input_tokens: 100000, input: 5, output: 15}]}\n    sources: [https://api.acme.test/docs/models/acme-chat]\n    verified: 2026-11-20\n'))
    expect((await run(['diff', 'HEAD'])).out).toBe(
      '### Catalog changes\n\n**Changed fields** (3)\n\n| Entry | Field | Before | After |\n| --- | --- | --- | --- |\n' +
        '| `acme-chat` | pricing.tiers | (unset) | {above_input_tokens: 100000, input: 5, output: 15} |\n' +
        '| `acme-chat` | sources | (unset) | https://api.acme.test/docs/models/acme-chat |\n' +
        '| `acme-chat` | verified | (unset) | 2026-11-20 |\n',
    )
  })

  it('lists added, deactivated and deprecated models', async () => {
    await run(['add', 'acme-new', '--name', 'New', '--provider', 'acme', '--kind', 'chat', '--apis', 'chat'])
    await run(['deprecate', 'acme-chat', '--sunset', '2027-03-01', '--replacement', 'acme-new'])
    await run(['deactivate', 'acme-next'])
    expect((await run(['diff', 'HEAD'])).out).toBe(
      '### Catalog changes\n\n**Added** (1)\n- `acme-new` (acme, chat), experimental\n\n' +
        '**Deactivated** (1)\n- `acme-next`\n\n**Deprecated** (1)\n- `acme-chat`: sunset 2027-03-01, replacement `acme-new`\n',
    )
  })

  it('says so when nothing changed, and treats a new file as all added', async () => {
    expect((await run(['diff', 'HEAD'])).out).toBe('### Catalog changes\n\nNo changes to providers, models or patterns.\n')
    expect((await run(['diff', 'HEAD~1'])).out).toMatch(/^### Catalog changes\n\n\*\*Added\*\* \(2\)\n- `acme-chat` \(acme, chat\)\n- `acme-next` \(acme, reasoning\), experimental\n\n\*\*Providers added\*\* \(1\)\n- `acme`\n$/)
  })

  it('reports a changed replacement and a withdrawn deprecation', async () => {
    await run(['deprecate', 'acme-chat', '--sunset', '2027-03-01', '--replacement', 'acme-next'])
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'deprecate')
    writeFileSync(file, current().replace(', replacement: acme-next}', '}'))
    expect((await run(['diff', 'HEAD'])).out).toBe('### Catalog changes\n\n**Deprecated** (1)\n- `acme-chat`: sunset 2027-03-01\n')
    writeFileSync(file, current().replace(/\n {4}deprecation: .*/, ''))
    expect((await run(['diff', 'HEAD'])).out).toBe('### Catalog changes\n\n**No longer deprecated** (1)\n- `acme-chat`\n')
  })

  it('copes with entries that are not maps and ids named like Object members', async () => {
    writeFileSync(file, `${original}\n  broken: null\n  constructor:\n    name: C\n    provider: acme\n    kind: chat\n    apis: [chat]\n`)
    expect((await run(['diff', 'HEAD'])).out).toBe('### Catalog changes\n\n**Added** (2)\n- `broken`\n- `constructor` (acme, chat)\n')
  })

  it('fails with exit 2 on a ref git does not know', async () => {
    const result = await run(['diff', 'no-such-ref'])
    expect(result.code).toBe(2)
    expect(result.err).toMatch(/^git cannot show models\.yaml at no-such-ref: fatal: invalid object name 'no-such-ref'\./)
  })
})
