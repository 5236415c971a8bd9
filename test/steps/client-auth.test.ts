import { describe, expect, it } from 'vitest'
import { clientAuth } from '../../src/steps/client-auth.ts'
import { stepApp } from './_app.ts'

const KEY = 'client-key-0123456789abcdef'

describe('the client-auth step', () => {
  const request = stepApp(clientAuth([KEY], { version: 'none', teams: {} }))

  it('asks for a key with 401 and says how to send one', async () => {
    for (const authorization of [undefined, 'Bearer wrong-key-0123456789', `Basic ${KEY}`]) {
      const res = await request('/open', { headers: authorization ? { authorization } : {} })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer')
      expect((await res.json()).error.message).toBe('a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key> (one of GATEWAY_API_KEYS)')
    }
    expect((await request('/open', { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200)
  })

  it('lets public routes and CORS preflights through without one', async () => {
    expect((await request('/public')).status).toBe(200)
    // Past the step, the route itself answers: this one takes no OPTIONS.
    const preflight = await request('/open', { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } })
    expect(preflight.status).toBe(405)
    expect((await preflight.json()).error.message).toBe('OPTIONS is not allowed here; use GET, POST, HEAD')
  })

  it('with no keys configured, the gateway is open', async () => {
    expect((await stepApp(clientAuth([], { version: 'none', teams: {} }))('/open')).status).toBe(200)
  })
})
