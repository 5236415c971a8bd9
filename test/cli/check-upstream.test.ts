import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../scripts/cli/main.ts'
import { ACME_KEY, CLAUDE_KEY, mockServer } from '../_setup.ts'

const fixture = new URL('../fixtures/proxy.yaml', import.meta.url).pathname
let cloud: Awaited<ReturnType<typeof mockServer>>
let local: Awaited<ReturnType<typeof mockServer>>

beforeAll(async () => {
  cloud = await mockServer({ models: ['upstream-chat', 'think', 'pro', 'mod', 'new-model'], keys: { openai: ACME_KEY, anthropic: CLAUDE_KEY } })
  local = await mockServer({ models: ['embed', 'rerank'] })
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
        'acme: 5 served, 6 in the catalog, 2 missing upstream, 1 not in the catalog',
        '  missing upstream (remove or deprecate it): instruct',
        '  missing upstream (remove or deprecate it): soon',
        '  not in the catalog: new-model',
        'claude: 5 served, 1 in the catalog, 1 missing upstream, 5 not in the catalog',
        '  missing upstream (remove or deprecate it): claude',
        ...['mod', 'new-model', 'pro', 'think', 'upstream-chat'].map((m) => `  not in the catalog: ${m}`),
        'local: 2 served, 2 in the catalog, 0 missing upstream, 0 not in the catalog',
        'nokey: skipped (NOKEY_API_KEY is not set)',
      ],
    })
  })

  it('checks one provider, and passes when it serves every catalog model', async () => {
    expect(await run(['local'], env())).toEqual({ code: 0, err: [], out: ['local: 2 served, 2 in the catalog, 0 missing upstream, 0 not in the catalog'] })
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
