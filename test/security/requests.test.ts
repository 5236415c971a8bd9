// One request must never stop a replica or hold it: bodies over the limit in any framing, bodies
// and headers trickled in, clients that leave mid-body, JSON nested to overflow a stack.
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { nodeHandler } from '../../src/node-handler.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { listen } from '../../src/listen.ts'
import type { Listener } from '../../src/listen.ts'
import { ADMIN, ACME_KEY, CLAUDE_KEY, mockServer, NOW, proxyCatalog, startServer, until } from '../_setup.ts'

let mock: Awaited<ReturnType<typeof mockServer>>
let server: Listener
let port: number
const logs: string[] = []
beforeAll(async () => {
  mock = await mockServer()
  const env = { ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY, ACME_BASE_URL: `${mock.url}/v1`, CLAUDE_BASE_URL: mock.url, LOCAL_BASE_URL: `${mock.url}/v1`, ADMIN_TOKEN: ADMIN, MAX_BODY_BYTES: '1000' }
  const { app, gateway } = createApp({ catalog: proxyCatalog, env, now: () => NOW, log: (line) => logs.push(line) })
  // As the gateway process listens (src/server.ts), with short limits for the test.
  server = await listen(nodeHandler(app), { ...gateway.config, port: 0, headersTimeoutMs: 300, requestTimeoutMs: 600 })
  port = server.port
})
afterAll(async () => {
  await server.close()
  await mock.close()
})

// A raw HTTP/1.1 connection: what it wrote back, and when it closed.
async function raw(port: number) {
  const socket: Socket = connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  let received = ''
  let closed = false
  socket.on('data', (d) => (received += d))
  socket.on('error', () => {})
  socket.on('close', () => (closed = true))
  return { socket, received: () => received, closed: () => closed }
}

const healthy = async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status
const chunked = (path: string) => `POST ${path} HTTP/1.1\r\nHost: gateway.test\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`

describe('request bodies over MAX_BODY_BYTES', () => {
  for (const path of ['/v1/chat/completions', '/api/chat', '/api/config']) {
    it(`get 413 when chunked, the connection closes, and the replica keeps serving (${path})`, async () => {
      const c = await raw(port)
      c.socket.write(chunked(path))
      for (let i = 0; i < 5 && !c.closed(); i++) c.socket.write(`258\r\n${'x'.repeat(600)}\r\n`)
      await until(() => c.closed(), 'the connection to close')
      expect(c.received()).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/)
      expect(c.received().toLowerCase()).toContain('connection: close')
      expect(c.received()).toContain('the request body is larger than 1000 bytes (MAX_BODY_BYTES)')
      expect(await healthy()).toBe(200)
    })
  }

  it('leave the gateway process serving (npm start): a chunked one once ended it', async () => {
    const gateway = startServer({ PORT: '0', MAX_BODY_BYTES: '1000' })
    try {
      const url = new URL(await gateway.listening)
      const c = await raw(Number(url.port))
      c.socket.write(chunked('/v1/chat/completions'))
      for (let i = 0; i < 5 && !c.closed(); i++) c.socket.write(`258\r\n${'x'.repeat(600)}\r\n`)
      await until(() => c.closed(), 'the connection to close')
      expect(c.received()).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/)
      expect((await fetch(`${url}healthz`)).status).toBe(200)
      expect(gateway.output().err).toBe('')
    } finally {
      gateway.child.kill('SIGTERM')
      expect(await gateway.exited).toBe(0)
    }
  }, 30_000)

  it('get 413 with Content-Length too, before the body is read', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(2000) })
    expect(res.status).toBe(413)
    expect((await res.json()).error.code).toBe('request_too_large')
    expect(mock.seen).toEqual([])
  })
})

describe('slow clients', () => {
  // Sends `start`, then `drip` every 100 ms until the gateway closes the connection; what it got.
  async function trickle(start: string, drip: string): Promise<string> {
    const c = await raw(port)
    c.socket.write(start)
    const timer = setInterval(() => c.socket.writable && c.socket.write(drip), 100)
    try {
      await until(() => c.closed(), 'the gateway to close the connection', 5000)
    } finally {
      clearInterval(timer)
    }
    return c.received()
  }

  it('a body trickled in past REQUEST_TIMEOUT_MS gets 408 and the socket is closed, and is logged as 408', async () => {
    const before = logs.length
    const received = await trickle('POST /v1/chat/completions HTTP/1.1\r\nHost: gateway.test\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{', ' ')
    expect(received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
    await until(() => logs.length > before, 'the log line')
    expect(JSON.parse(logs.at(-1)!)).toMatchObject({ path: '/v1/chat/completions', status: 408 })
  })

  it('headers trickled in past HEADERS_TIMEOUT_MS: 408 and the socket is closed', async () => {
    expect(await trickle('GET /healthz HTTP/1.1\r\nHost: gateway.test\r\n', 'X-Slow: 1\r\n')).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
  })

  it('a client that leaves mid-body is logged as 499 (a client abort), not 500', async () => {
    const c = await raw(port)
    const before = logs.length
    // Node answers 100 Continue as it hands the request to the gateway: then it is in.
    c.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: gateway.test\r\nContent-Type: application/json\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n`)
    await until(() => c.received().startsWith('HTTP/1.1 100 Continue'), 'the 100 Continue')
    c.socket.write('{"model":')
    c.socket.destroy()
    await until(() => logs.slice(before).some((l) => l.includes('"path":"/v1/chat/completions"')), 'the log line')
    const line = JSON.parse(logs.slice(before).find((l) => l.includes('"path":"/v1/chat/completions"'))!)
    expect(line.status).toBe(499)
    expect(line.error).toBeUndefined()
  })
})
