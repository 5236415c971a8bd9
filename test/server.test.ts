import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { mockServer, until } from './_setup.ts'

const root = new URL('../', import.meta.url).pathname
// What `npm start` runs once its prestart step has compiled the catalog (as npm test has).
const [command, ...args] = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')).scripts.start as string).split(' ') as [string, ...string[]]

// Starts the server as `npm start` does, with `env`; resolves with its output and exit code.
function start(env: Record<string, string>) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (err += d))
  const exited = once(child, 'exit').then(([code]) => code as number)
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const line = out.split('\n').find((l) => l.includes('"listening"'))
      if (line) resolve(JSON.parse(line).url as string)
    })
    void exited.then((code) => reject(new Error(`exited with ${code}: ${err}`)))
  })
  listening.catch(() => {}) // a test that expects the exit reads `exited` instead
  return { child, listening, exited, output: () => ({ out, err }) }
}

describe('the server process (npm start)', () => {
  it('serves the shipped catalog, logs JSON lines and exits 0 on SIGTERM', async () => {
    const server = start({ PORT: '0', OPENAI_API_KEY: 'sk-canary-not-a-real-key' })
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

  it('refuses to start on a malformed setting, naming the variable', async () => {
    const server = start({ PORT: 'eighty' })
    expect(await server.exited).toBe(1)
    expect(server.output().err).toContain('cannot start: PORT: "eighty" is not a port number (0-65535)')
  }, 30_000)
})

describe('graceful shutdown (SIGTERM)', () => {
  it('refuses new connections, lets in-flight requests finish, ends open streams with an error event, exits 0, whatever a second signal says', async () => {
    const mock = await mockServer({})
    const server = start({ PORT: '0', OPENAI_API_KEY: 'sk-canary-drain-0000', OPENAI_BASE_URL: `${mock.url}/v1`, SHUTDOWN_TIMEOUT_MS: '1500' })
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
    expect(rest.trim().split('\n\n').at(-1)).toBe('data: {"error":{"message":"the gateway is shutting down","type":"server_error","param":null,"code":"shutting_down"}}')
    expect(await server.exited).toBe(0)
    expect(server.output().out).toContain('"message":"ending 1 open stream(s)"')
    expect(server.output().out).toContain('"message":"SIGINT: already draining"')
    // The upstream request of the ended stream is closed too (the mock may hear of it a moment later).
    await until(() => mock.seen[0]!.closed, 'the upstream request of the ended stream to close')
    await mock.close()
  }, 30_000)
})
