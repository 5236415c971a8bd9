import { describe, expect, it } from 'vitest'
import { ADMIN, testApp } from '../_setup.ts'

const auth = (token: string) => ({ authorization: `Bearer ${token}` })

describe('the admin surface', () => {
  it.each([
    ['no ADMIN_TOKEN configured', {}, auth(ADMIN), 403, 'the admin API is disabled: set ADMIN_TOKEN to enable it'],
    ['no token', { ADMIN_TOKEN: ADMIN }, {}, 401, 'a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)'],
    ['a wrong token', { ADMIN_TOKEN: ADMIN }, auth(`x${ADMIN.slice(1)}`), 401, 'a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)'],
    ['a token of another length', { ADMIN_TOKEN: ADMIN }, auth(`${ADMIN}${ADMIN}`), 401, 'a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)'],
    ['a client key', { ADMIN_TOKEN: ADMIN, GATEWAY_API_KEYS: 'client-canary-0123456789abcdef' }, auth('client-canary-0123456789abcdef'), 401, 'a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)'],
  ])('refuses %s', async (_, env, headers, status, message) => {
    const { request } = testApp(env)
    for (const path of ['/api/admin/models', '/api/admin/models/acme-chat']) {
      const res = await request(path, { headers })
      expect(res.status).toBe(status)
      expect(await res.json()).toEqual({ error: message })
    }
  })

  it('lists every model, active or not, with its status', async () => {
    const res = await testApp({ ADMIN_TOKEN: ADMIN, ACME_API_KEY: 'sk-acme-canary' }).request('/api/admin/models', { headers: auth(ADMIN) })
    const { models } = await res.json()
    expect(models.map((m: { id: string }) => m.id)).toEqual(['acme-chat', 'acme-preview', 'acme-retired', 'acme-old', 'acme-gone', 'acme-done', 'claude-x', 'org/model:8b', 'local-embed'])
    const status = Object.fromEntries(models.map((m: { id: string; status: unknown }) => [m.id, m.status]))
    expect(status['acme-retired']).toEqual({ active: false, experimental: false, callable: false, listed: false, provider_configured: true, deprecation: { state: 'none' } })
    expect(status['acme-preview']).toMatchObject({ experimental: true, callable: true, listed: false })
    expect(status['acme-gone']).toMatchObject({ callable: false, listed: false, deprecation: { state: 'retired', sunset: '2026-06-01', replacement: 'acme-chat' } })
    expect(status['claude-x']).toMatchObject({ listed: false, provider_configured: false })
  })

  it('shows one model with every catalog field, ids with slashes included', async () => {
    const { request } = testApp({ ADMIN_TOKEN: ADMIN })
    const res = await request('/api/admin/models/org%2Fmodel:8b', { headers: auth(ADMIN) })
    expect(await res.json()).toMatchObject({ id: 'org/model:8b', family: 'llama', context_window: 131072, upstream_id: 'org/model:8b', status: { listed: true } })
    const missing = await request('/api/admin/models/nope', { headers: auth(ADMIN) })
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: "model 'nope' is not in the catalog" })
  })

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'])('answers %s with 405, Allow and how to change the catalog', async (method) => {
    const { request } = testApp({ ADMIN_TOKEN: ADMIN })
    for (const path of ['/api/admin/models', '/api/admin/models/acme-chat']) {
      const res = await request(path, { method, headers: { ...auth(ADMIN), 'content-type': 'application/json' }, body: '{"isActive":false}' })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('GET, HEAD')
      expect(await res.json()).toEqual({ error: 'The catalog is read-only at run time: to add, change, promote or retire a model, edit models.yaml (npm run catalog -- add|promote|deactivate|deprecate) and open a pull request.' })
    }
  })
})
