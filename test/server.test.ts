import { describe, expect, it } from 'vitest'
import { mockServer, startServer, until } from './_setup.ts'

describe('the server process (npm start)', () => {
  it('serves the shipped catalog, logs JSON lines and exits 0 on SIGTERM', async () => {
    const server = startServer({ PORT: '0', OPENAI_API_KEY: 'sk-canary-not-a-real-key' })
    const url = await server.listening
    const res = await fetch(`${url}v1/models`)
    expect(res.status).toBe(200)
    const ids = ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id)
    expect(ids).toContain('gpt-5.1')
    expect(ids).not.toContain('o1-mini') // retired
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    const { out } = server.output()
    expect(out).toContain('"path":"/v1/models","status":200')
    expect(out).not.toContain('sk-canary-not-a-real-key')
  }, 30_000)

  it('listens on any free port with PORT=0, two processes at once', async () => {
    const servers = [startServer({ PORT: '0' }), startServer({ PORT: '0' })]
    try {
      const ports = await Promise.all(servers.map(async (s) => Number(new URL(await s.listening).port)))
      expect(ports[0]).not.toBe(ports[1])
      for (const port of ports) expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
    } finally {
      for (const s of servers) s.child.kill('SIGTERM')
      expect(await Promise.all(servers.map((s) => s.exited))).toEqual([0, 0])
    }
  }, 30_000)

  it('refuses to start on a malformed setting, naming the variable', async () => {
    const server = startServer({ PORT: 'eighty' })
    expect(await server.exited).toBe(1)
    expect(server.output().err).toContain('cannot start: PORT: "eighty" is not a port number (0-65535)')
  }, 30_000)
})

describe('graceful shutdown (SIGTERM)', () => {
  it('refuses new connections, lets in-flight requests finish, ends open streams with an error event, exits 0, whatever a second signal says', async () => {
    const mock = await mockServer({})
    const server = startServer({ PORT: '0', OPENAI_API_KEY: 'sk-canary-drain-0000', OPENAI_BASE_URL: `${mock.url}/v1`, SHUTDOWN_TIMEOUT_MS: '1500' })
    const url = await server.listening
    const post = (stream: boolean) => fetch(`${url}v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4.1', stream, messages: [{ role: 'user', content: 'hi' }] }) })
    mock.fail({ stallAfter: 1 }) // a stream that will still be open when the drain ends
    const stream = await post(true)
    const reader = stream.body!.getReader()
    await reader.read()
    mock.fail({ delayMs: 500 }) // a request that finishes within the drain
    const inflight = post(false)
    await until(() => mock.seen.length === 2, 'the in-flight request to reach the upstream')
    server.child.kill('SIGTERM')
    // Sent once the first is handled: two pending signals would be delivered SIGINT first.
    await until(() => server.output().out.includes('"message":"SIGTERM: draining'), 'the drain to start')
    server.child.kill('SIGINT') // a second signal (Ctrl-C under npm) does not cut the drain short
    await expect(fetch(`${url}healthz`)).rejects.toThrow() // no new connections
    expect((await inflight).status).toBe(200)
    let rest = ''
    const decoder = new TextDecoder()
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value)
    expect(rest.trim().split('\n\n').at(-1)).toBe('data: {"error":{"message":"the gateway is shutting down","type":"service_unavailable","param":null,"code":"shutting_down"}}')
    expect(await server.exited).toBe(0)
    expect(server.output().out).toContain('"message":"ending 1 open stream(s)"')
    expect(server.output().out).toContain('"message":"SIGINT: already draining"')
    // The upstream request of the ended stream is closed too (the mock may hear of it a moment later).
    await until(() => mock.seen[0]!.closed === true, 'the upstream request of the ended stream to close')
    await mock.close()
  }, 30_000)
})
