import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { ADMIN, gatewayCatalog, testApp } from '../_setup.ts'

// What each listing shows, by environment. Never listed: acme-retired (inactive) and
// acme-gone (past sunset); acme-preview only when experimental models are exposed.
const scenarios: [string, Record<string, string>, string[]][] = [
  ['no provider key', {}, ['org/model:8b', 'local-embed']],
  ['an empty provider key', { ACME_API_KEY: '' }, ['org/model:8b', 'local-embed']],
  ['the acme key', { ACME_API_KEY: 'sk-acme-canary' }, ['acme-chat', 'acme-old', 'org/model:8b', 'local-embed']],
  ['the acme key, experimental exposed', { ACME_API_KEY: 'sk-acme-canary', EXPOSE_EXPERIMENTAL_MODELS: 'yes' }, ['acme-chat', 'acme-preview', 'acme-old', 'org/model:8b', 'local-embed']],
  ['experimental exposed, no acme key', { EXPOSE_EXPERIMENTAL_MODELS: '1' }, ['org/model:8b', 'local-embed']],
  ['the claude key', { CLAUDE_API_KEY: 'sk-claude-canary' }, ['claude-x', 'org/model:8b', 'local-embed']],
]

const listings: [string, (body: any) => string[]][] = [
  ['/v1/models', (b) => b.data.map((m: { id: string }) => m.id)],
  ['/api/tags', (b) => b.models.map((m: { name: string }) => m.name)],
  ['/api/models', (b) => b.models.map((m: { id: string }) => m.id)],
  // LibreChat's grouping: chat models of providers whose key is set (503 when there are none).
  ['/api/models/by-endpoint', (b) => Object.values(b).flat() as string[]],
]
const keyless = ['org/model:8b', 'local-embed']

describe.each(listings)('%s', (path, ids) => {
  it('drops a model on its sunset day, without a restart', async () => {
    let now = new Date('2027-01-30T23:59:59.999Z') // acme-old's sunset: 2027-01-31
    const { app } = createApp({ catalog: gatewayCatalog, env: { ACME_API_KEY: 'sk-acme-canary' }, now: () => now, log: () => {} })
    const listed = async () => ids(await (await app.fetch(new Request(`http://gateway.test${path}`))).json())
    expect(await listed()).toContain('acme-old')
    now = new Date('2027-01-31T00:00:00.000Z')
    expect(await listed()).not.toContain('acme-old')
    expect(await listed()).toContain('acme-chat')
  })

  it.each(scenarios)('with %s', async (_, env, listed) => {
    const expected = path.endsWith('by-endpoint') ? listed.filter((id) => !keyless.includes(id)) : listed
    const res = await testApp(env).request(path)
    expect(res.status).toBe(expected.length ? 200 : 503)
    if (expected.length) expect(new Set(ids(await res.json()))).toEqual(new Set(expected))
  })

  it('shows experimental models once POST /api/config exposes them', async () => {
    const { request } = testApp({ ACME_API_KEY: 'sk-acme-canary', ADMIN_TOKEN: ADMIN })
    expect(ids(await (await request(path)).json())).not.toContain('acme-preview')
    const res = await request('/api/config', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: '{"expose_experimental_models":true}' })
    expect(await res.json()).toMatchObject({ expose_experimental_models: true, applied_to: expect.stringMatching(/^this process only/) })
    expect(ids(await (await request(path)).json())).toContain('acme-preview')
  })
})

describe('models not listed', () => {
  const { request } = testApp({ ACME_API_KEY: 'sk-acme-canary' })
  it.each([
    ['acme-preview', 200, undefined], // experimental: hidden, still retrievable
    ['acme-retired', 404, 'model_not_found'], // inactive
    ['acme-gone', 410, 'model_retired'], // past sunset
  ])('%s by id -> %i', async (id, status, code) => {
    const res = await request(`/v1/models/${id}`)
    expect(res.status).toBe(status)
    if (code) expect((await res.json()).error.code).toBe(code)
  })
})
