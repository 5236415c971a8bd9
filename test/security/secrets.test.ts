// Provider keys never leave for anywhere but their upstream: with debug logging on, canary keys
// appear in no response body, header or log line, whatever goes wrong upstream. And secrets
// compare in constant time.
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { oneOf, safeEqual } from '../../src/policy/keys.ts'
import type { Fault } from '../../src/mock/faults.ts'
import { ACME_KEY, ADMIN, CLAUDE_KEY, CLIENT_KEY, mockServer, NOW, proxyCatalog } from '../_setup.ts'

let mock: Awaited<ReturnType<typeof mockServer>>
let closedPort: number
beforeAll(async () => {
  mock = await mockServer()
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  closedPort = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
})
afterAll(() => mock.close())

// The gateway at debug level with both providers pointed at `base` (the mock unless a mode says otherwise).
function gateway(env: Record<string, string> = {}) {
  const logs: string[] = []
  const { app } = createApp({
    catalog: proxyCatalog,
    env: { ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY, ACME_BASE_URL: `${mock.url}/v1`, CLAUDE_BASE_URL: mock.url, GATEWAY_API_KEYS: CLIENT_KEY, ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'debug', UPSTREAM_TIMEOUT_MS: '30000', ...env },
    now: () => NOW,
    log: (line) => logs.push(line),
  })
  return { app, logs }
}

// Each failure mode: how to bring it about, the status the client gets, and what the message says.
const echo = (key: string) => `Incorrect API key provided: ${key}. You can find your API key at https://platform.example.com/account/api-keys.`
const MODES: { name: string; env?: (base: { closedPort: number }) => Record<string, string>; fault?: (key: string) => Fault; status: number; message: RegExp }[] = [
  { name: 'DNS failure', env: () => ({ ACME_BASE_URL: 'http://gateway-canary.invalid/v1', CLAUDE_BASE_URL: 'http://gateway-canary.invalid' }), status: 502, message: /could not be reached \((ENOTFOUND|EAI_AGAIN)\)/ },
  { name: 'refused connection', env: ({ closedPort }) => ({ ACME_BASE_URL: `http://127.0.0.1:${closedPort}/v1`, CLAUDE_BASE_URL: `http://127.0.0.1:${closedPort}` }), status: 502, message: /could not be reached \(ECONNREFUSED\)/ },
  { name: '401 echoing the key', fault: (key) => ({ status: 401, raw: JSON.stringify({ error: { message: echo(key), type: 'invalid_request_error' } }) }), status: 401, message: /Incorrect API key provided: \[redacted\]/ },
  { name: '500 with the key in a body that is not JSON', fault: (key) => ({ status: 500, raw: `<html>upstream crashed handling Authorization: Bearer ${key}</html>` }), status: 500, message: /upstream crashed handling Authorization: Bearer \[redacted\]/ },
  { name: 'timeout', env: () => ({ UPSTREAM_TIMEOUT_MS: '300' }), fault: () => ({ delayMs: 3000 }), status: 504, message: /did not answer within 300 ms/ },
  { name: 'bad JSON echoing the key', fault: (key) => ({ status: 200, raw: `{"choices": [${key}` }), status: 502, message: /answered with a body that is not JSON|answered a stream request with 'application\/json', not an event stream/ },
]

const requests = [
  { model: 'chat', stream: false, key: ACME_KEY },
  { model: 'chat', stream: true, key: ACME_KEY },
  { model: 'claude', stream: false, key: CLAUDE_KEY },
  { model: 'claude', stream: true, key: CLAUDE_KEY },
]

describe('canary provider keys, debug logging on', () => {
  for (const mode of MODES) {
    it.each(requests)(`${mode.name}: %o`, async ({ model, stream, key }) => {
      const { app, logs } = gateway(mode.env?.({ closedPort }))
      if (mode.fault) mock.fail(mode.fault(key))
      const res = await app.fetch(new Request('http://gateway.test/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hello' }] }),
      }))
      const text = await res.text()
      expect(res.status).toBe(mode.status)
      expect(text).toMatch(mode.message)
      await new Promise((resolve) => setImmediate(resolve))
      const everything = [text, ...[...res.headers].map(([n, v]) => `${n}: ${v}`), ...logs].join('\n')
      for (const secret of [ACME_KEY, CLAUDE_KEY, CLIENT_KEY, ADMIN]) expect(everything).not.toContain(secret)
      expect(logs.length).toBe(1)
      expect(JSON.parse(logs[0]!).headers).toMatchObject({ authorization: '[redacted]' }) // debug level: headers, credentials hidden
    }, 40_000) // a DNS lookup may take its resolver's time
  }

  it('a key the client itself sends in a header it should not is not logged either', async () => {
    const { app, logs } = gateway()
    const res = await app.fetch(new Request('http://gateway.test/v1/models', { headers: { authorization: `Bearer ${CLIENT_KEY}`, 'x-upstream-key': ACME_KEY, 'x-note': `copied ${ADMIN} by mistake` } }))
    expect(res.status).toBe(200)
    await new Promise((resolve) => setImmediate(resolve))
    const headers = JSON.parse(logs[0]!).headers
    expect(headers).toMatchObject({ 'x-upstream-key': '[redacted]', 'x-note': 'copied [redacted] by mistake' })
  })

  it('an error event echoing the key inside an Ollama NDJSON stream reaches neither client nor log', async () => {
    const { app, logs } = gateway()
    mock.fail({ inject: { after: 2, text: `data: ${JSON.stringify({ error: { message: echo(ACME_KEY), type: 'invalid_request_error' } })}\n\n` } })
    const res = await app.fetch(new Request('http://gateway.test/api/chat', { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}` }, body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] }) }))
    const text = await res.text()
    expect(text.trim().split('\n').at(-1)).toBe(JSON.stringify({ error: echo('[redacted]') }))
    expect([text, ...logs].join('\n')).not.toContain(ACME_KEY)
  })

  it.each([['chat', ACME_KEY], ['claude', CLAUDE_KEY]])('%s: an event that is not JSON, echoing the key, inside a stream reaches neither client nor log', async (model, key) => {
    const { app, logs } = gateway()
    mock.fail({ inject: { after: 2, text: `data: {"choices": [${key}\n\n` } })
    const res = await app.fetch(new Request('http://gateway.test/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hello' }] }) }))
    const text = await res.text()
    expect(text).not.toContain('[DONE]')
    expect([text, ...logs].join('\n')).not.toContain(key)
  })

  it('an error event inside a stream that echoes the key reaches neither client nor log', async () => {
    const { app, logs } = gateway()
    mock.fail({ inject: { after: 2, text: `data: ${JSON.stringify({ error: { message: echo(ACME_KEY), type: 'invalid_request_error' } })}\n\n` } })
    const res = await app.fetch(new Request('http://gateway.test/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hello' }] }) }))
    const text = await res.text()
    expect(text).toContain('Incorrect API key provided: [redacted]')
    expect([text, ...logs].join('\n')).not.toContain(ACME_KEY)
  })
})

describe('secret comparison', () => {
  it('is right for every length, including a prefix of the secret and an empty guess, without throwing', () => {
    for (const guess of ['', ADMIN.slice(0, -1), `${ADMIN}x`, ADMIN.toUpperCase(), 'x'.repeat(10_000)]) expect(safeEqual(guess, ADMIN), guess).toBe(false)
    expect(safeEqual(ADMIN, ADMIN)).toBe(true)
  })

  it('looks at every key whichever one matches (no early exit that tells which, or how far)', () => {
    const keys = ['a'.repeat(20), CLIENT_KEY, 'b'.repeat(30)]
    for (const token of [keys[0]!, keys[2]!, 'nope']) {
      const read: number[] = []
      const watched = new Proxy(keys, { get: (target, p, r) => (typeof p === 'string' && /^\d+$/.test(p) && read.push(Number(p)), Reflect.get(target, p, r)) })
      oneOf(token, watched)
      expect(read, token).toEqual([0, 1, 2])
    }
  })
})
