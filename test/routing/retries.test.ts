import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { nodeHandler } from '../../src/node-handler.ts'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { ACME_KEY, CLAUDE_KEY, compileOk, mockServer, NOW, until } from '../_setup.ts'

// The proxy catalog with retries on the acme provider: 3 more tries, a short backoff for the test.
const catalog = compileOk(
  readFileSync(new URL('../fixtures/proxy.yaml', import.meta.url), 'utf8').replace('    api_key_env: ACME_API_KEY\n', '    api_key_env: ACME_API_KEY\n    retries: {attempts: 3, backoff_ms: 5, max_wait_ms: 2000, budget_ms: 10000}\n'),
)
const user = (content: string) => [{ role: 'user' as const, content }]
let mock: Awaited<ReturnType<typeof mockServer>>
let url: string
let close: () => Promise<void>
let client: OpenAI
const logs: string[] = []
beforeAll(async () => {
  mock = await mockServer()
  const { app } = createApp({ catalog, env: { ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY, ACME_BASE_URL: `${mock.url}/v1`, CLAUDE_BASE_URL: mock.url }, now: () => NOW, log: (line) => logs.push(line) })
  const server = createServer(nodeHandler(app))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())))
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 })
})
afterAll(async () => {
  await close()
  await mock.close()
})
beforeEach(() => {
  mock.seen.length = 0
  mock.failAll()
})
const calls = () => mock.seen.filter((s) => s.path === '/v1/chat/completions').length

describe('retries declared on the provider', () => {
  it('a 503 then an answer is one answered request', async () => {
    mock.fail({ status: 503 })
    const answer = await client.chat.completions.create({ model: 'chat', messages: user('again') })
    expect(answer.choices[0]!.message.content).toMatch(/again/)
    expect(calls()).toBe(2)
  })

  it('a 429 with retry-after: 1 waits that second, then gets through', async () => {
    mock.fail({ status: 429, headers: { 'retry-after': '1' } })
    const started = Date.now()
    await client.chat.completions.create({ model: 'chat', messages: user('patient') })
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    expect(calls()).toBe(2)
  })

  it('a 429 asking for longer than the longest wait is passed on at once, with its retry-after', async () => {
    mock.fail({ status: 429, headers: { 'retry-after': '30' } })
    const error = (await client.chat.completions.create({ model: 'chat', messages: user('no') }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(error).toMatchObject({ status: 429 })
    expect(error.headers?.get('retry-after')).toBe('30')
    expect(calls()).toBe(1)
  })

  it('a 500 before a stream is retried, and the stream arrives whole', async () => {
    mock.fail({ status: 500 })
    let text = ''
    for await (const chunk of await client.chat.completions.create({ model: 'chat', messages: user('streamed'), stream: true })) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toMatch(/streamed/)
    expect(calls()).toBe(2)
  })

  it.each([400, 401, 403, 404, 422])('a %i is never retried', async (status) => {
    mock.fail({ status })
    await expect(client.chat.completions.create({ model: 'chat', messages: user('x') })).rejects.toMatchObject({ status, message: expect.stringContaining(`mock fault: status ${status}`) })
    expect(calls()).toBe(1)
  })

  it('gives up after its attempts, answering the last failure', async () => {
    mock.failAll({ status: 503 })
    const error = await client.chat.completions.create({ model: 'chat', messages: user('x') }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 503, message: expect.stringContaining('mock fault: status 503') })
    expect(calls()).toBe(4) // the first try and 3 retries
  })

  it('stops retrying when the client leaves', async () => {
    mock.failAll({ status: 429, headers: { 'retry-after': '2' } })
    const logged = logs.length
    const controller = new AbortController()
    const pending = client.chat.completions.create({ model: 'chat', messages: user('x') }, { signal: controller.signal }).catch((e: unknown) => e)
    await until(() => calls() === 1, 'the first try')
    controller.abort()
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError)
    // The request's log line is written once its handler is done: by then no try is left to come.
    await until(() => logs.length > logged, 'the gateway to finish the request')
    expect(calls()).toBe(1)
  })
})
