import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../scripts/cli/main.ts'
import { ACME_KEY, CLAUDE_KEY, mockServer } from '../_setup.ts'

const fixture = new URL('../fixtures/proxy.yaml', import.meta.url).pathname
let cloud: Awaited<ReturnType<typeof mockServer>>
let local: Awaited<ReturnType<typeof mockServer>>

beforeAll(async () => {
  cloud = await mockServer({ models: ['upstream-chat', 'think', 'pro', 'mod', 'new-model'], keys: { openai: ACME_KEY, anthropic: CLAUDE_KEY } })
  local = await mockServer({ models: ['embed', 'rerank', 'local-coder-q4'] })
})
afterAll(async () => {
  await cloud.close()
  await local.close()
})

async function run(args: string[], env: Record<string, string>) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(['check-upstream', '--file', fixture, ...args], { cwd: '/', env, now: new Date('2026-11-21T12:00:00Z'), out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out, err }
}

const env = () => ({ ACME_API_KEY: ACME_KEY, ACME_BASE_URL: `${cloud.url}/v1`, CLAUDE_API_KEY: CLAUDE_KEY, CLAUDE_BASE_URL: cloud.url, LOCAL_BASE_URL: `${local.url}/v1` })

describe('catalog check-upstream', () => {
  it('reports catalog models a provider no longer serves (exit 1) and served models the catalog lacks', async () => {
    expect(await run([], env())).toEqual({
      code: 1,
      err: [],
      out: [
        'acme: 5 served, 6 in the catalog, 2 missing upstream, 1 not in the catalog, 0 with lifecycle drift',
        '  missing upstream (remove or deprecate it): instruct',
        '  missing upstream (remove or deprecate it): soon',
        '  not in the catalog: new-model',
        'claude: 5 served, 1 in the catalog, 1 missing upstream, 5 not in the catalog, 0 with lifecycle drift',
        '  missing upstream (remove or deprecate it): claude',
        ...['mod', 'new-model', 'pro', 'think', 'upstream-chat'].map((m) => `  not in the catalog: ${m}`),
        'local: 3 served, 3 in the catalog, 0 missing upstream, 0 not in the catalog, 0 with lifecycle drift',
        'nokey: skipped (NOKEY_API_KEY is not set)',
      ],
    })
  })

  it('checks one provider, and passes when it serves every catalog model', async () => {
    expect(await run(['local'], env())).toEqual({ code: 0, err: [], out: ['local: 3 served, 3 in the catalog, 0 missing upstream, 0 not in the catalog, 0 with lifecycle drift'] })
  })

  it('fails clearly when a provider cannot list its models, without showing its key', async () => {
    const result = await run(['acme'], { ...env(), ACME_API_KEY: 'sk-wrong-canary-1234567890' })
    expect(result.code).toBe(1)
    expect(result.out).toHaveLength(1)
    expect(result.out[0]).toMatch(new RegExp(`^acme: could not list models at ${cloud.url}/v1: .*401`))
    expect(result.out[0]).not.toContain('sk-wrong-canary')
  })

  it('names an unknown provider', async () => {
    expect((await run(['nobody'], env())).out).toEqual(['no provider nobody in the catalog (providers: acme, claude, local, nokey)'])
  })
})

describe('catalog check-upstream: lifecycle drift', () => {
  // A provider that announces shutdown dates (OpenAI's shutdown_date): one the catalog lacks
  // (think), one it contradicts (soon: 2027-01-31 in the catalog), one it agrees with (old is
  // gone upstream), and `null` (none announced) for the rest.
  let provider: Awaited<ReturnType<typeof mockServer>>
  let dir: string
  let file: string
  beforeAll(async () => {
    provider = await mockServer({
      models: ['upstream-chat', { id: 'think', shutdown_date: '2027-02-15' }, { id: 'soon', shutdown_date: '2027-01-14' }, 'pro', 'mod', 'instruct'],
      keys: { openai: ACME_KEY },
    })
  })
  afterAll(() => provider.close())

  async function check(args: string[]) {
    dir = mkdtempSync(join(tmpdir(), 'catalog-drift-'))
    file = join(dir, 'models.yaml')
    copyFileSync(fixture, file)
    const out: string[] = []
    const err: string[] = []
    const code = await main(['check-upstream', 'acme', ...args], { cwd: dir, env: { ACME_API_KEY: ACME_KEY, ACME_BASE_URL: `${provider.url}/v1` }, now: new Date('2026-11-21T12:00:00Z'), out: (l) => out.push(l), err: (l) => err.push(l) })
    return { code, out, err }
  }

  it('names each model whose announced shutdown the catalog lacks or contradicts, both dates and the fixing command (exit 1)', async () => {
    const result = await check([])
    expect(result).toEqual({
      code: 1,
      err: [],
      out: [
        'acme: 6 served, 6 in the catalog, 0 missing upstream, 0 not in the catalog, 2 with lifecycle drift',
        '  lifecycle drift: think: Acme announces shutdown on 2027-02-15; the catalog has no shutdown date. Fix: npm run catalog -- deprecate think --sunset 2027-02-15 (or check-upstream --fix)',
        '  lifecycle drift: soon: Acme announces shutdown on 2027-01-14; the catalog says 2027-01-31. Fix: npm run catalog -- deprecate soon --sunset 2027-01-14 (or check-upstream --fix)',
      ],
    })
    expect(result.out.join('\n')).not.toContain(ACME_KEY)
    expect(readFileSync(file, 'utf8')).toBe(readFileSync(fixture, 'utf8'))
  })

  it('--fix writes the announced dates with the comment-keeping editor, keeping announcement and replacement, making up no notice date, and passes', async () => {
    const result = await check(['--fix'])
    expect(result.code).toBe(0)
    expect(result.out.slice(-2)).toEqual(['fixed think: sunset 2027-02-15 in models.yaml', 'fixed soon: sunset 2027-01-14 in models.yaml'])
    const before = readFileSync(fixture, 'utf8')
    expect(readFileSync(file, 'utf8')).toBe(
      before
        .replace('output: 6}]}\n', 'output: 6}]}\n    deprecation: {sunset: 2027-02-15}\n')
        .replace('deprecation: {announced: 2026-10-01, sunset: 2027-01-31, replacement: chat}', 'deprecation: {announced: 2026-10-01, sunset: 2027-01-14, replacement: chat}'),
    )
    expect((await check([])).code).toBe(1) // a fresh copy: the fix went to that run's file only
  })

  it('notes, without failing, a catalog sunset the provider does not announce yet', async () => {
    const quiet = await mockServer({ models: ['upstream-chat', 'think', { id: 'soon', shutdown_date: null }, 'pro', 'mod', 'instruct'], keys: { openai: ACME_KEY } })
    try {
      dir = mkdtempSync(join(tmpdir(), 'catalog-drift-'))
      const out: string[] = []
      const code = await main(['check-upstream', 'acme', '--file', fixture], { cwd: dir, env: { ACME_API_KEY: ACME_KEY, ACME_BASE_URL: `${quiet.url}/v1` }, now: new Date('2026-11-21T12:00:00Z'), out: (l) => out.push(l), err: (l) => out.push(l) })
      expect({ code, out }).toEqual({
        code: 0,
        out: ['acme: 6 served, 6 in the catalog, 0 missing upstream, 0 not in the catalog, 0 with lifecycle drift', '  note: soon: the catalog retires it on 2027-01-31; Acme announces no shutdown yet'],
      })
    } finally {
      await quiet.close()
    }
  })
})

describe('catalog check-upstream: drift by other names, and fixes that cannot land', () => {
  // The proxy catalog plus a snapshot pattern for think and an inactive model.
  const catalog = `${readFileSync(fixture, 'utf8')}  done:\n    name: Done\n    provider: acme\n    kind: chat\n    apis: [chat]\n    active: false\n    deprecation: {sunset: 2026-01-01, replacement: chat}\npatterns:\n  - match: ^(think)-\\d{4}-\\d{2}-\\d{2}$\n    description: Dated snapshots of think.\n    like: $1\n`
  let provider: Awaited<ReturnType<typeof mockServer>>
  beforeAll(async () => {
    provider = await mockServer({
      models: [
        { id: 'upstream-chat', shutdown_date: '2027-01-01' }, // soon names chat as its replacement, and retires later: this fix cannot land
        { id: 'chat-latest', shutdown_date: '2027-01-01' }, // an alias of chat: the same model, reported once
        { id: 'think-2026-01-01', shutdown_date: '2027-03-01' }, // a snapshot routed like think: a note
        { id: 'soon', shutdown_date: '2027-01-20' },
        { id: 'done', shutdown_date: '2026-03-01' }, // inactive in the catalog: left alone
        'think', 'pro', 'mod', 'instruct',
      ],
      keys: { openai: ACME_KEY },
    })
  })
  afterAll(() => provider.close())

  it('finds drift through aliases and shared upstream ids, notes snapshots, leaves inactive models alone, and fixes what it can, naming what it cannot (exit 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-drift-'))
    writeFileSync(join(dir, 'models.yaml'), catalog)
    const out: string[] = []
    const err: string[] = []
    const code = await main(['check-upstream', 'acme', '--fix'], { cwd: dir, env: { ACME_API_KEY: ACME_KEY, ACME_BASE_URL: `${provider.url}/v1` }, now: new Date('2026-11-21T12:00:00Z'), out: (l) => out.push(l), err: (l) => err.push(l) })
    expect(code).toBe(1)
    expect(out).toEqual([
      'acme: 9 served, 6 in the catalog, 0 missing upstream, 0 not in the catalog, 3 with lifecycle drift',
      '  lifecycle drift: chat: Acme announces shutdown on 2027-01-01; the catalog has no shutdown date. Fix: npm run catalog -- deprecate chat --sunset 2027-01-01 (or check-upstream --fix)',
      '  lifecycle drift: chat-preview: Acme announces shutdown on 2027-01-01; the catalog has no shutdown date. Fix: npm run catalog -- deprecate chat-preview --sunset 2027-01-01 (or check-upstream --fix)',
      '  lifecycle drift: soon: Acme announces shutdown on 2027-01-20; the catalog says 2027-01-31. Fix: npm run catalog -- deprecate soon --sunset 2027-01-20 (or check-upstream --fix)',
      '  note: think-2026-01-01 (routed like think): Acme announces shutdown on 2027-03-01; the catalog gives it none: list the snapshot in the catalog to give it its own date',
      'fixed chat-preview: sunset 2027-01-01 in models.yaml', // it shares chat's upstream id
      'fixed soon: sunset 2027-01-20 in models.yaml',
    ])
    expect(err).toEqual([expect.stringMatching(/^could not fix chat:\nmodels\.yaml:\d+:\d+: soon: deprecation\.replacement chat is itself sunset on 2027-01-01, before 2027-01-31\nmodels\.yaml: not written/)])
    expect(readFileSync(join(dir, 'models.yaml'), 'utf8')).toBe(
      catalog.replace('sunset: 2027-01-31, replacement: chat}', 'sunset: 2027-01-20, replacement: chat}').replace('    experimental: true\n', '    experimental: true\n    deprecation: {sunset: 2027-01-01}\n'),
    )
  })
})
