import { describe, expect, it } from 'vitest'
import { ADMIN, CLIENT_KEY, NOW, testApp } from '../_setup.ts'

describe('operations', () => {
  it('answers health and readiness', async () => {
    const { request } = testApp()
    expect(await (await request('/healthz')).json()).toEqual({ status: 'ok' })
    expect(await (await request('/readyz')).json()).toEqual({ status: 'ready', catalog_version: expect.stringMatching(/^[0-9a-f]{16}$/), models: 9 })
  })

  it('counts requests by route pattern and status, in /api/stats and /metrics', async () => {
    const { request } = testApp({ ACME_API_KEY: 'sk-acme-canary' })
    await request('/v1/models')
    await request('/v1/models/acme-chat')
    await request('/v1/models/acme-default')
    await request('/v1/models/acme-gone')
    await request('/nowhere')
    const stats = await (await request('/api/stats')).json()
    // Looking a model up is not calling it: per-model counters are for completions.
    expect(stats).toMatchObject({ requests: 5, errors: 2, requests_by_model: {}, total_tokens: 0, total_cost: 0 })
    // On the gateway's clock (the tests' fixed one): counting started when the app was built.
    expect(stats).toMatchObject({ since: NOW.toISOString(), uptime_seconds: 0 })
    const metrics = await (await request('/metrics')).text()
    expect(metrics).toContain('gateway_http_requests_total{method="GET",route="/v1/models",status="200"} 1\n')
    expect(metrics).toContain('gateway_http_requests_total{method="GET",route="/v1/models/**:id",status="200"} 2\n')
    expect(metrics).toContain('gateway_http_requests_total{method="GET",route="/v1/models/**:id",status="410"} 1\n')
    expect(metrics).toContain('gateway_http_requests_total{method="GET",route="/**",status="404"} 1\n')
    expect(metrics).toMatch(/^# HELP gateway_info The catalog this instance serves\.\n# TYPE gateway_info gauge\ngateway_info\{catalog_version="[0-9a-f]{16}"\} 1\n/)
  })
})

describe('routing', () => {
  const { request } = testApp()
  it.each([
    ['GET', '/v1/nope', 404, { error: { message: 'no route for GET /v1/nope', type: 'invalid_request_error', param: null, code: 'not_found' }, detail: 'no route for GET /v1/nope' }, null],
    ['GET', '/api/nope', 404, { error: 'no route for GET /api/nope' }, null],
    ['POST', '/v1/models', 405, { error: { message: 'POST is not allowed here; use GET, HEAD', type: 'invalid_request_error', param: null, code: 'method_not_allowed' }, detail: 'POST is not allowed here; use GET, HEAD' }, 'GET, HEAD'],
    ['GET', '/api/show', 405, { error: 'GET is not allowed here; use POST' }, 'POST'],
  ])('%s %s -> %i in the dialect of its prefix', async (method, path, status, body, allow) => {
    const res = await request(path, { method })
    expect(res.status).toBe(status)
    expect(res.headers.get('allow')).toBe(allow)
    expect(await res.json()).toEqual(body)
  })
})

describe('request ids and logs', () => {
  it('echoes a tame x-request-id, replaces a wild one, and logs one JSON line per request', async () => {
    const { request, logs } = testApp()
    expect((await request('/v1/models/org%2Fmodel:8b', { headers: { 'x-request-id': 'req-123' } })).headers.get('x-request-id')).toBe('req-123')
    const generated = (await request('/healthz', { headers: { 'x-request-id': 'bad id\twith tab' } })).headers.get('x-request-id')
    expect(generated).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/)
    // The log writes the id as it is: one that JSON would escape is never taken.
    const quoted = (await request('/healthz', { headers: { 'x-request-id': 'a"b\\c' } })).headers.get('x-request-id')
    expect(quoted).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/)
    expect(logs.map((l) => JSON.parse(l))).toEqual([
      { time: '2026-11-21T12:00:00.000Z', request_id: 'req-123', method: 'GET', path: '/v1/models/org%2Fmodel:8b', status: 200, model: 'org/model:8b', duration_ms: expect.any(Number) },
      { time: '2026-11-21T12:00:00.000Z', request_id: generated, method: 'GET', path: '/healthz', status: 200, duration_ms: expect.any(Number) },
      { time: '2026-11-21T12:00:00.000Z', request_id: quoted, method: 'GET', path: '/healthz', status: 200, duration_ms: expect.any(Number) },
    ])
  })
})

describe('request bodies', () => {
  const { request } = testApp({ MAX_BODY_BYTES: '64' })
  const big = JSON.stringify({ model: 'x'.repeat(100) })

  it('answers 413 past MAX_BODY_BYTES, declared or not', async () => {
    const declared = await request('/api/show', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })
    expect(declared.status).toBe(413)
    expect(await declared.json()).toEqual({ error: 'the request body is larger than 64 bytes (MAX_BODY_BYTES)' })
    const bytes = new TextEncoder().encode(big)
    const chunked = new ReadableStream({ start: (c) => (c.enqueue(bytes.slice(0, 50)), c.enqueue(bytes.slice(50)), c.close()) })
    const streamed = await request('/api/show', { method: 'POST', body: chunked, duplex: 'half' } as RequestInit)
    expect(streamed.status).toBe(413)
  })

  it('reads Ollama bodies whatever their content type, as Ollama does', async () => {
    expect((await request('/api/show', { method: 'POST', body: '{"model":"local-embed"}' })).status).toBe(200)
  })

  it('takes only application/json on the other routes', async () => {
    const res = await testApp({ ADMIN_TOKEN: ADMIN }).request('/api/config', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json-seq' }, body: '{}' })
    expect(res.status).toBe(415)
    expect(await res.json()).toEqual({ error: 'send the body as JSON with Content-Type: application/json (got "application/json-seq")' })
  })
})

describe('client keys (GATEWAY_API_KEYS)', () => {
  const { request } = testApp({ GATEWAY_API_KEYS: `other-canary-0123456789abcdef,${CLIENT_KEY}`, ADMIN_TOKEN: ADMIN })
  it.each([
    ['/v1/models', {}, 401],
    ['/v1/models', { authorization: 'Bearer wrong' }, 401],
    ['/api/tags', { authorization: 'Basic abc' }, 401],
    ['/v1/models', { authorization: `Bearer ${CLIENT_KEY}` }, 200],
    ['/v1/models', { authorization: `Bearer ${ADMIN}` }, 200],
    ['/healthz', {}, 200],
    ['/readyz', {}, 200],
  ])('%s with %o -> %i', async (path, headers, status) => {
    const res = await request(path, { headers })
    expect(res.status).toBe(status)
    if (status === 401) {
      const body = await res.json()
      expect(JSON.stringify(body)).toContain('a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key> (one of GATEWAY_API_KEYS)')
      expect(res.headers.get('www-authenticate')).toBe('Bearer')
    }
  })
})

describe('CORS', () => {
  const { request } = testApp({ CORS_ORIGINS: 'https://chat.example.com', ADMIN_TOKEN: ADMIN })
  it('allows listed origins, not others, and never the admin surface', async () => {
    expect((await request('/v1/models', { headers: { origin: 'https://chat.example.com' } })).headers.get('access-control-allow-origin')).toBe('https://chat.example.com')
    const refused = await request('/v1/models', { headers: { origin: 'https://evil.example.com' } })
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    expect(refused.headers.get('vary')).toBe('origin')
    expect((await request('/api/admin/models', { headers: { origin: 'https://chat.example.com', authorization: `Bearer ${ADMIN}` } })).headers.get('access-control-allow-origin')).toBeNull()
  })

  it('answers preflights for listed origins only', async () => {
    const preflight = (origin: string) => request('/v1/models', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } })
    const ok = await preflight('https://chat.example.com')
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST')
    const refused = await preflight('https://evil.example.com')
    expect(refused.status).toBe(204)
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    const admin = await request('/api/config', { method: 'OPTIONS', headers: { origin: 'https://chat.example.com', 'access-control-request-method': 'POST' } })
    expect(admin.headers.get('access-control-allow-origin')).toBeNull()
    expect(admin.headers.get('access-control-allow-methods')).toBeNull()
  })
})
