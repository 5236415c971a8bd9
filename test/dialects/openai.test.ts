import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testApp, testServer } from '../_setup.ts'

describe('OpenAI models API, through the official openai client', () => {
  let server: Awaited<ReturnType<typeof testServer>>
  let client: OpenAI

  beforeAll(async () => {
    server = await testServer({ ACME_API_KEY: 'sk-acme-canary' })
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(() => server.close())

  it('lists the listed models with created from the release date and owned_by from the catalog', async () => {
    const models = []
    for await (const m of client.models.list()) models.push(m)
    expect(models).toEqual([
      { id: 'acme-chat', object: 'model', created: Date.UTC(2025, 0, 15) / 1000, owned_by: 'acme-corp', shutdown_date: null },
      { id: 'acme-old', object: 'model', created: Date.UTC(2024, 2, 1) / 1000, owned_by: 'acme', shutdown_date: '2027-01-31' },
      { id: 'org/model:8b', object: 'model', created: Date.UTC(2025, 3, 5) / 1000, owned_by: 'local', shutdown_date: null },
      { id: 'local-embed', object: 'model', created: 0, owned_by: 'local', shutdown_date: null },
    ])
  })

  it('retrieves a deprecated model with its shutdown_date, as OpenAI\'s model object carries it', async () => {
    expect(await client.models.retrieve('acme-old')).toEqual({ id: 'acme-old', object: 'model', created: Date.UTC(2024, 2, 1) / 1000, owned_by: 'acme', shutdown_date: '2027-01-31' })
  })

  it('retrieves an id with a slash and a colon (the client sends it %2F-encoded)', async () => {
    expect(await client.models.retrieve('org/model:8b')).toMatchObject({ id: 'org/model:8b', owned_by: 'local' })
  })

  it('retrieves an alias under the name asked for, and a hidden experimental model', async () => {
    expect(await client.models.retrieve('acme-default')).toMatchObject({ id: 'acme-default', owned_by: 'acme-corp' })
    expect(await client.models.retrieve('acme-preview')).toMatchObject({ id: 'acme-preview' })
  })

  it.each(['no-such-model', 'acme-retired'])('raises NotFoundError with code model_not_found for %s', async (id) => {
    const error = await client.models.retrieve(id).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model', type: 'invalid_request_error', message: `404 The model '${id}' does not exist or you do not have access to it.` })
  })

  it('answers 410 naming the replacement past the sunset date', async () => {
    const error = await client.models.retrieve('acme-gone').catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 410, code: 'model_retired', message: "410 The model 'acme-gone' was retired on 2026-06-01. Use acme-chat instead." })
  })

  it('keeps answering 410 naming the replacement after the catalog marks a retired model inactive', async () => {
    const error = await client.models.retrieve('acme-done').catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 410, code: 'model_retired', message: "410 The model 'acme-done' was retired on 2026-01-01. Use acme-chat instead." })
  })
})

describe('GET /v1/models/{id} over HTTP', () => {
  const { request } = testApp()

  it.each([
    ['/v1/models/org/model:8b', 200],
    ['/v1/models/org%2Fmodel%3A8b', 200],
    ['/v1/models/org%252Fmodel%253A8b', 404], // double encoding reaches nothing
    ['/v1/models/..%2F..%2Fapi%2Fadmin%2Fmodels', 404],
    ['/v1/models/a%00b', 400],
    ['/v1/models/%E0%A4%A', 400],
  ])('%s -> %i', async (path, status) => {
    const res = await request(path)
    expect(res.status).toBe(status)
    const body = await res.json()
    if (status === 200) expect(body.id).toBe('org/model:8b')
    else expect(body.error.message).toMatch(status === 404 ? /^The model '.*' does not exist or you do not have access to it\.$/ : /^the model id (contains control characters|in the path is not valid percent-encoding)/)
  })

  it('carries Deprecation and Sunset headers for a deprecated model', async () => {
    const res = await request('/v1/models/acme-old')
    expect(res.headers.get('deprecation')).toBe(`@${Date.UTC(2026, 9, 1) / 1000}`)
    expect(res.headers.get('sunset')).toBe('Sun, 31 Jan 2027 00:00:00 GMT')
    expect((await request('/v1/models/acme-chat')).headers.has('deprecation')).toBe(false)
  })

  it('mirrors the message in a FastAPI-style detail', async () => {
    const body = await (await request('/v1/models/nope')).json()
    expect(body).toEqual({ error: { message: "The model 'nope' does not exist or you do not have access to it.", type: 'invalid_request_error', param: 'model', code: 'model_not_found' }, detail: "The model 'nope' does not exist or you do not have access to it." })
  })
})

describe('listing responses', () => {
  it('carry a strong ETag; If-None-Match gets 304 with no body; HEAD has no body', async () => {
    const { request } = testApp()
    const first = await request('/v1/models')
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[\w-]{27}"$/)
    const again = await request('/v1/models', { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    const head = await request('/v1/models', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    expect((await request('/v1/models', { headers: { 'if-none-match': '"stale"' } })).status).toBe(200)
  })

  it('change ETag when the listing changes', async () => {
    const { request } = testApp({ ADMIN_TOKEN: 'admin-canary-0123456789abcdef', ACME_API_KEY: 'sk-acme-canary' })
    const before = (await request('/v1/models')).headers.get('etag')
    await request('/api/config', { method: 'POST', headers: { authorization: 'Bearer admin-canary-0123456789abcdef', 'content-type': 'application/json' }, body: '{"expose_experimental_models":true}' })
    const after = await request('/v1/models', { headers: { 'if-none-match': before! } })
    expect(after.status).toBe(200)
    expect(after.headers.get('etag')).not.toBe(before)
  })

  it('keep their ETag when a state change does not change them', async () => {
    // No ACME key: exposing experimental models adds nothing, as acme-preview stays hidden.
    const { request } = testApp({ ADMIN_TOKEN: 'admin-canary-0123456789abcdef' })
    const before = (await request('/v1/models')).headers.get('etag')!
    await request('/api/config', { method: 'POST', headers: { authorization: 'Bearer admin-canary-0123456789abcdef', 'content-type': 'application/json' }, body: '{"expose_experimental_models":true}' })
    expect((await request('/v1/models', { headers: { 'if-none-match': before } })).status).toBe(304)
  })
})
