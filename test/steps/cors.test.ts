import { describe, expect, it } from 'vitest'
import { cors } from '../../src/steps/cors.ts'
import { stepApp } from './_app.ts'

const origin = 'https://chat.example.com'
const request = stepApp(cors([origin]))
const preflight = (path: string, method: string, from = origin) => request(path, { method: 'OPTIONS', headers: { origin: from, 'access-control-request-method': method } })

describe('the CORS step', () => {
  it('answers a listed origin\'s preflight for a route open to browsers, and lets it read the answer', async () => {
    const res = await preflight('/open', 'POST')
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(origin)
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST')
    // For other requests it sets the headers every answer carries.
    expect((await (await request('/open', { headers: { origin } })).json()).headers['access-control-allow-origin']).toBe(origin)
  })

  it('allows nothing to an origin not listed, and always varies by Origin', async () => {
    const res = await preflight('/open', 'POST', 'https://evil.example.com')
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    expect(res.headers.get('vary')).toBe('origin')
  })

  it('never opens what a route declares an admin action, by the route matched', async () => {
    for (const path of ['/admin', '/admin/', '/%61dmin']) expect((await preflight(path, 'GET')).headers.get('access-control-allow-origin'), path).toBeNull()
    expect((await preflight('/writes', 'POST')).headers.get('access-control-allow-origin')).toBeNull()
    expect((await preflight('/writes', 'GET')).headers.get('access-control-allow-origin')).toBe(origin)
  })
})
