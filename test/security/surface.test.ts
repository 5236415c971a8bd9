// What a hostile client can send: origins it is not allowed, forwarding headers, control
// characters in ids and headers, and path tricks. None gets further than a clear refusal.
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, CLIENT_KEY, testApp, testServer } from '../_setup.ts'

// Raw HTTP/1.1, for what fetch refuses to send (CR/LF in headers, literal dot segments).
function raw(url: string, request: string): Promise<string> {
  const { port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(request))
    let out = ''
    socket.on('data', (d) => (out += d))
    socket.on('end', () => resolve(out))
    socket.on('error', reject)
  })
}

describe('CORS', () => {
  const { request } = testApp({ CORS_ORIGINS: 'https://chat.example.com', ADMIN_TOKEN: ADMIN })
  const routes: [string, RequestInit][] = [
    ['/v1/models', {}],
    ['/api/tags', {}],
    ['/api/models', {}],
    ['/api/stats', {}],
    ['/v1/chat/completions', { method: 'POST', body: '{}' }],
  ]

  it.each(routes)('sends no allow-origin to an origin not listed (or a look-alike): %s', async (path, init) => {
    for (const origin of ['https://evil.example.com', 'https://chat.example.com.evil.com', 'http://chat.example.com', 'null', 'https://CHAT.example.com']) {
      const res = await request(path, { ...init, headers: { origin, 'content-type': 'application/json' } })
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull()
      expect(res.headers.get('vary')).toBe('origin')
    }
  })

  it('never opens the admin surface to a browser, even from a listed origin with the token', async () => {
    const origin = 'https://chat.example.com'
    for (const [path, method] of [['/api/admin/models', 'GET'], ['/api/admin/models/acme-chat', 'GET'], ['/api/config', 'POST']] as const) {
      const res = await request(path, { method, headers: { origin, authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"expose_experimental_models":false}' } : {}) })
      expect(res.headers.get('access-control-allow-origin'), path).toBeNull()
      const preflight = await request(path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method } })
      expect(preflight.headers.get('access-control-allow-origin'), path).toBeNull()
      expect(preflight.headers.get('access-control-allow-methods'), path).toBeNull()
    }
  })

  it('never opens an admin action in any spelling of its path that reaches it', async () => {
    const origin = 'https://chat.example.com'
    const spellings = [['/api/config/', 'POST'], ['/api/%63onfig', 'POST'], ['/api/./config', 'POST'], ['/api/x/../config', 'POST'], ['/api/admin/models/', 'GET'], ['/api/%61dmin/models', 'GET']] as const
    for (const [path, method] of spellings) {
      const preflight = await request(path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method } })
      expect(preflight.headers.get('access-control-allow-origin'), path).toBeNull()
      const res = await request(path, { method, headers: { origin, authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"expose_experimental_models":false}' } : {}) })
      expect(res.status, path).toBe(200) // the route was reached...
      expect(res.headers.get('access-control-allow-origin'), path).toBeNull() // ...and refused to browsers
    }
  })

  it('still answers preflights of the routes browsers may call, from a listed origin', async () => {
    const preflight = await request('/v1/chat/completions', { method: 'OPTIONS', headers: { origin: 'https://chat.example.com', 'access-control-request-method': 'POST' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://chat.example.com')
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST')
    const config = await request('/api/config/', { method: 'OPTIONS', headers: { origin: 'https://chat.example.com', 'access-control-request-method': 'GET' } })
    expect(config.headers.get('access-control-allow-origin')).toBe('https://chat.example.com')
  })
})

describe('X-Forwarded-For and friends', () => {
  const { request } = testApp({ GATEWAY_API_KEYS: CLIENT_KEY, ADMIN_TOKEN: ADMIN })
  const forwarded = { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1', forwarded: 'for=127.0.0.1;host=localhost;proto=https', 'x-forwarded-host': 'localhost', 'x-forwarded-proto': 'https', 'x-original-url': '/healthz', 'x-rewrite-url': '/healthz' }

  it.each([
    ['/v1/models', 401],
    ['/api/admin/models', 401],
    ['/healthz', 200],
  ])('change nothing: %s answers %i with or without them', async (path, status) => {
    const plain = await request(path)
    const spoofed = await request(path, { headers: forwarded })
    expect(plain.status).toBe(status)
    expect(spoofed.status).toBe(status)
    expect(await spoofed.text()).toBe(await plain.text())
  })
})

describe('control characters', () => {
  const { request } = testApp({ ADMIN_TOKEN: ADMIN })

  it.each(['acme-chat\r\nx-injected: 1', 'acme-chat\u0000', 'acme\nchat', '\u007f'])('in a model id in a body: 400 invalid_model_id (%j)', async (model) => {
    for (const path of ['/v1/chat/completions', '/api/chat']) {
      const res = await request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) })
      expect(res.status, path).toBe(400)
      const body = await res.json()
      expect(path.startsWith('/api') ? body.error : body.error.message).toBe('model contains control characters (CR, LF, NUL...): no model id has them')
      expect([...res.headers.keys()]).not.toContain('x-injected')
    }
  })

  it.each(['%0d%0ax-injected:%201', '%00', 'a%0Ab'])('in a model id in a path: 400 (%s)', async (id) => {
    for (const path of [`/v1/models/${id}`, `/api/admin/models/${id}`]) {
      const res = await request(path, { headers: { authorization: `Bearer ${ADMIN}` } })
      expect(res.status, path).toBe(400)
      const body = await res.json()
      expect(path.startsWith('/api') ? body.error : body.error.message, path).toBe('the model id contains control characters')
    }
  })

  describe('in headers (raw HTTP)', () => {
    let server: Awaited<ReturnType<typeof testServer>>
    beforeAll(async () => (server = await testServer()))
    afterAll(() => server.close())

    it.each([
      ['a bare CR in a value', 'x-request-id: a\rb\r\n'],
      ['a NUL in a value', 'x-request-id: a\u0000b\r\n'],
      ['a LF inside a name', 'x-re\nquest-id: a\r\n'],
      ['a space before the colon', 'x-request-id : a\r\n'],
    ])('%s: 400 Bad Request from the HTTP parser, before any route', async (_, header) => {
      const answer = await raw(server.url, `GET /v1/models HTTP/1.1\r\nhost: x\r\n${header}connection: close\r\n\r\n`)
      expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
      expect(answer).not.toContain('"object":"list"')
    })

    it('an x-request-id that is not tame is replaced, never echoed', async () => {
      const answer = await raw(server.url, `GET /v1/models HTTP/1.1\r\nhost: x\r\nx-request-id: <script>alert(1)</script>\r\nconnection: close\r\n\r\n`)
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
      expect(answer).not.toContain('<script>')
      expect(answer).toMatch(/\r\nx-request-id: [0-9a-f]{8}-\w+\r\n/)
    })
  })
})

describe('path tricks', () => {
  const ADMIN_REFUSED = 'a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)'
  const KEY_REFUSED = 'a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key> (one of GATEWAY_API_KEYS)'
  let server: Awaited<ReturnType<typeof testServer>>
  beforeAll(async () => (server = await testServer({ GATEWAY_API_KEYS: CLIENT_KEY, ADMIN_TOKEN: ADMIN })))
  afterAll(() => server.close())
  const get = (path: string, auth = true) => raw(server.url, `GET ${path} HTTP/1.1\r\nhost: x\r\n${auth ? `authorization: Bearer ${CLIENT_KEY}\r\n` : ''}connection: close\r\n\r\n`)

  it.each([
    ['/v1/models/..%2F..%2Fapi%2Fadmin%2Fmodels', '404 Not Found'],
    ['/v1/models/..%252F..%252Fapi%252Fadmin%252Fmodels', '404 Not Found'],
    ['/v1/models/%2e%2e%2f%2e%2e%2fapi%2fadmin%2fmodels', '404 Not Found'],
    ['/v1/models/%c0%ae%c0%ae%2fadmin', '400 Bad Request'], // overlong UTF-8 is not valid percent-encoding
  ])('%s is a model id that reaches no other route: %s', async (path, status) => {
    const answer = await get(path)
    expect(answer.split('\r\n')[0]).toBe(`HTTP/1.1 ${status}`)
    expect(answer).not.toContain('catalog_version')
    if (status.startsWith('404')) expect(answer).toContain('does not exist or you do not have access to it')
  })

  it.each([
    ['/v1/models/../../api/admin/models', '401 Unauthorized', ADMIN_REFUSED],
    ['/v1/models/%2e%2e/%2e%2e/api/admin/models', '401 Unauthorized', ADMIN_REFUSED],
    ['/v1/models/..\\..\\api\\admin\\models', '401 Unauthorized', ADMIN_REFUSED],
    ['/./api/./admin/models', '401 Unauthorized', ADMIN_REFUSED],
    ['//api//admin//models', '404 Not Found', 'no route for GET //api//admin//models'], // empty segments are not collapsed: no such route
  ])('%s, dot segments resolved as URLs are, still needs the admin token: %s', async (path, status, message) => {
    const answer = await get(path)
    expect(answer.split('\r\n')[0]).toBe(`HTTP/1.1 ${status}`)
    expect(answer).toContain(message)
    expect(answer).not.toContain('catalog_version')
  })

  it.each([
    ['/healthz/../v1/models', '401 Unauthorized', KEY_REFUSED],
    ['/healthz/%2e%2e/v1/models', '401 Unauthorized', KEY_REFUSED],
    ['/readyz%2F..%2Fv1%2Fmodels', '401 Unauthorized', KEY_REFUSED],
    ['/healthz?/../v1/models', '200 OK', '{"status":"ok"}'], // the query is no path: this is the health check itself
  ])('%s does not borrow the health check\'s exemption from client keys: %s', async (path, status, says) => {
    const answer = await get(path, false)
    expect(answer.split('\r\n')[0]).toBe(`HTTP/1.1 ${status}`)
    expect(answer).toContain(says)
    expect(answer).not.toContain('"object":"list"')
  })
})
