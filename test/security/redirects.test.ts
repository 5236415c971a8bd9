// An upstream that redirects is never followed: the provider key would travel with the request
// to wherever the redirect points. The client gets a 502 that says why; the other host sees nothing.
import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../scripts/cli/main.ts'
import { ACME_KEY, CLAUDE_KEY, proxyServer } from '../_setup.ts'

let elsewhere: Server
const reached: IncomingHttpHeaders[] = []
let redirecting: Server
let redirectingUrl: string
let gateway: Awaited<ReturnType<typeof proxyServer>>
let status = 307 // what the redirecting upstream answers with

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  elsewhere = createServer((req, res) => (reached.push(req.headers), res.end('{}')))
  const target = await listen(elsewhere)
  redirecting = createServer((req, res) => res.writeHead(status, { location: `${target}${req.url}` }).end())
  redirectingUrl = await listen(redirecting)
  gateway = await proxyServer({ url: redirectingUrl })
})
afterAll(async () => {
  await gateway.close()
  for (const s of [elsewhere, redirecting]) s.closeAllConnections(), s.close()
})

describe('upstream redirects', () => {
  it.each([
    ['chat', false, 301],
    ['chat', true, 302],
    ['claude', false, 303],
    ['claude', true, 307],
    ['chat', false, 308],
  ])('are not followed (%s, stream %s, %i): 502 upstream_redirect, and the key goes nowhere else', async (model, stream, redirect) => {
    status = redirect
    const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }) })
    expect(res.status).toBe(502)
    const body = await res.json()
    expect(body.error.code).toBe('upstream_redirect')
    expect(body.error.message).toBe(`${model === 'chat' ? 'Acme' : 'Claude'} answered with a redirect (${redirect}), which the gateway does not follow: point the provider's base URL at the right address`)
    expect(reached).toEqual([])
  })

  it('are not followed by check-upstream either', async () => {
    const out: string[] = []
    const fixture = new URL('../fixtures/proxy.yaml', import.meta.url).pathname
    const code = await main(['check-upstream', '--file', fixture, 'claude'], { cwd: '/', env: { CLAUDE_API_KEY: CLAUDE_KEY, CLAUDE_BASE_URL: redirectingUrl, ACME_API_KEY: ACME_KEY }, now: new Date('2026-11-21T12:00:00Z'), out: (l) => out.push(l), err: (l) => out.push(l) })
    expect(code).toBe(1)
    expect(out[0]).toMatch(new RegExp(`^claude: could not list models at ${redirectingUrl}: `))
    expect(out[0]).toMatch(/fetch failed \(unexpected redirect\)$/)
    expect(reached).toEqual([])
  })
})
