import { describe, expect, it } from 'vitest'
import { CLIENT_KEY, testApp } from '../_setup.ts'

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

describe('the dashboard files', () => {
  it.each([
    ['/', 'text/html; charset=utf-8', '<script type="module" src="/dashboard.js"></script>'],
    ['/dashboard.css', 'text/css; charset=utf-8', ':focus-visible'],
    ['/dashboard.js', 'text/javascript; charset=utf-8', "from './catalog.js'"],
    ['/catalog.js', 'text/javascript; charset=utf-8', 'export function catalogView'],
    ['/detail.js', 'text/javascript; charset=utf-8', 'export function detailView'],
    ['/usage.js', 'text/javascript; charset=utf-8', 'export function renderUsage'],
    ['/api.js', 'text/javascript; charset=utf-8', 'export async function api'],
  ])('GET %s: %s, a strict CSP, nosniff, no-cache and a strong ETag', async (path, type, excerpt) => {
    const res = await testApp().request(path)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(type)
    expect(res.headers.get('content-security-policy')).toBe(CSP)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('etag')).toMatch(/^"[\w-]{27}"$/)
    expect(await res.text()).toContain(excerpt)
  })

  it('answers If-None-Match with its ETag with 304 and no body, another ETag with the file', async () => {
    const { request } = testApp()
    const etag = (await request('/')).headers.get('etag')!
    for (const given of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await request('/', { headers: { 'if-none-match': given } })
      expect(res.status, given).toBe(304)
      expect(await res.text(), given).toBe('')
      expect(res.headers.get('etag'), given).toBe(etag)
    }
    const changed = await request('/', { headers: { 'if-none-match': '"older"' } })
    expect(changed.status).toBe(200)
    expect(await changed.text()).toContain('<title>Model catalog</title>')
  })

  it('gives each file its own ETag', async () => {
    const { request } = testApp()
    const tags = await Promise.all(['/', '/dashboard.css', '/dashboard.js'].map(async (p) => (await request(p)).headers.get('etag')))
    expect(new Set(tags).size).toBe(3)
  })

  it('answers POST / with 405 and Allow', async () => {
    const res = await testApp().request('/', { method: 'POST', body: 'x' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, HEAD')
    expect((await res.json()).error.message).toBe('POST is not allowed here; use GET, HEAD')
  })

  it('serves nothing else from public/ or beside it', async () => {
    const { request } = testApp()
    for (const path of ['/index.html', '/../package.json', '/dashboard.ts', '/public/dashboard.js']) {
      const res = await request(path)
      expect(res.status, path).toBe(404)
      expect((await res.json()).error.message, path).toMatch(/^no route for GET \//)
    }
  })

  it('serves the page and its assets without a client key, while the API it calls still needs one', async () => {
    const { request } = testApp({ GATEWAY_API_KEYS: CLIENT_KEY })
    for (const path of ['/', '/dashboard.css', '/dashboard.js', '/catalog.js']) expect((await request(path)).status, path).toBe(200)
    const models = await request('/api/models')
    expect(models.status).toBe(401)
    expect(await models.json()).toEqual({ error: 'a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key> (one of GATEWAY_API_KEYS)' })
    expect((await request('/api/models', { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).status).toBe(200)
    // Only the dashboard's own paths are public: an unknown path still asks for the key.
    const unknown = await request('/dashboard.json')
    expect(unknown.status).toBe(401)
    expect((await unknown.json()).error.message).toBe('a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key> (one of GATEWAY_API_KEYS)')
  })
})
