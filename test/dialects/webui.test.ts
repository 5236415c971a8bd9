import { describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { catalog as shipped } from '../../src/catalog/catalog.generated.ts'
import { ADMIN, gatewayCatalog, testApp } from '../_setup.ts'

describe('GET /api/models', () => {
  it('describes each model for a model picker', async () => {
    const body = await (await testApp({ ACME_API_KEY: 'sk-acme-canary', EXPOSE_EXPERIMENTAL_MODELS: 'true' }).request('/api/models')).json()
    expect(body.models.find((m: { id: string }) => m.id === 'acme-preview')).toEqual({
      id: 'acme-preview', name: 'Acme Preview', description: '', provider: 'acme', kind: 'reasoning', apis: ['chat', 'responses'], responses: 'native', capabilities: ['reasoning'], efforts: ['low', 'high'],
      experimental: true, experimental_since: '2026-11-01', stability: 'beta', context_window: null, max_output: null, pricing: null, deprecation: null, shutdown_date: null,
    })
    const old = body.models.find((m: { id: string }) => m.id === 'acme-old')
    expect(old.deprecation).toEqual({ state: 'deprecated', announced: '2026-10-01', sunset: '2027-01-31', replacement: 'acme-chat' })
    expect(old.shutdown_date).toBe('2027-01-31')
    expect(old).not.toHaveProperty('stability') // production models carry no experimental fields
    // A chat model without the Responses API of its own gets it translated; an embedding model none.
    expect(body.models.find((m: { id: string }) => m.id === 'acme-chat').responses).toBe('translated')
    expect(body.models.find((m: { kind: string }) => m.kind === 'embedding').responses).toBeNull()
  })
})

describe('GET /api/models/by-endpoint', () => {
  it('groups listed chat models of providers with a key by LibreChat endpoint type', async () => {
    const body = await (await testApp({ ACME_API_KEY: 'k', CLAUDE_API_KEY: 'k' }).request('/api/models/by-endpoint')).json()
    expect(body).toEqual({ openAI: ['acme-chat', 'acme-old'], anthropic: ['claude-x'] })
  })

  it.each([
    ['the fixture catalog', gatewayCatalog],
    ['the shipped catalog', shipped],
  ])('answers 503 with a clear error when no provider key is set (%s: keyless local models do not count)', async (_, catalog) => {
    const { app } = createApp({ catalog, env: {}, log: () => {} })
    const res = await app.fetch(new Request('http://gateway.test/api/models/by-endpoint'))
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ error: 'No models/endpoints available: no endpoint type has both a configured API key and an active model (set a provider key such as OPENAI_API_KEY)' })
  })
})

describe('/api/config', () => {
  const post = (request: ReturnType<typeof testApp>['request'], body: string, token?: string, type = 'application/json') =>
    request('/api/config', { method: 'POST', headers: { 'content-type': type, ...(token && { authorization: `Bearer ${token}` }) }, body })

  it('is public to read', async () => {
    const body = await (await testApp().request('/api/config')).json()
    expect(body).toEqual({ expose_experimental_models: false, catalog_version: expect.stringMatching(/^[0-9a-f]{16}$/) })
  })

  it.each([
    ['no ADMIN_TOKEN configured', {}, ADMIN, '{"expose_experimental_models":true}', 403, 'the admin API is disabled: set ADMIN_TOKEN to enable it'],
    ['no token', { ADMIN_TOKEN: ADMIN }, undefined, '{"expose_experimental_models":true}', 401, 'a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)'],
    ['a wrong token', { ADMIN_TOKEN: ADMIN }, `${ADMIN.slice(0, -1)}x`, '{"expose_experimental_models":true}', 401, 'a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)'],
    ['a token of another length', { ADMIN_TOKEN: ADMIN }, 'short', '{"expose_experimental_models":true}', 401, 'a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)'],
    ['an unknown key', { ADMIN_TOKEN: ADMIN }, ADMIN, '{"expose_experimental_models":true,"debug":true}', 400, 'unknown setting debug (settable: expose_experimental_models)'],
    ['a wrong type', { ADMIN_TOKEN: ADMIN }, ADMIN, '{"expose_experimental_models":"yes"}', 400, 'expose_experimental_models must be true or false (got "yes")'],
    ['nothing to set', { ADMIN_TOKEN: ADMIN }, ADMIN, '{}', 400, 'expose_experimental_models must be true or false (got nothing)'],
  ])('refuses %s', async (_, env, token, body, status, message) => {
    const app = testApp(env)
    const res = await post(app.request, body, token)
    expect(res.status).toBe(status)
    expect(await res.json()).toEqual({ error: message })
    expect((await (await app.request('/api/config')).json()).expose_experimental_models).toBe(false)
  })

  it('applies a valid change to this process at once', async () => {
    const app = testApp({ ADMIN_TOKEN: ADMIN })
    expect((await post(app.request, '{"expose_experimental_models":true}', ADMIN)).status).toBe(200)
    expect((await (await app.request('/api/config')).json()).expose_experimental_models).toBe(true)
    expect(app.gateway.runtime.exposeExperimental).toBe(true)
  })
})
