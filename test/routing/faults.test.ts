import { connect } from 'node:net'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { ACME_KEY, proxyServer, until, useProxy } from '../_setup.ts'

// Short timeouts, so that hung upstreams end within the test; a small body limit.
const proxy = useProxy({ UPSTREAM_TIMEOUT_MS: '300', STREAM_IDLE_TIMEOUT_MS: '300', MAX_BODY_BYTES: '200' })

const chat = (extra: object = {}) => ({ model: 'chat', messages: [{ role: 'user' as const, content: 'one two three four' }], ...extra })
const post = (body: NonNullable<RequestInit['body']>, headers: Record<string, string> = { 'content-type': 'application/json' }, init: RequestInit = {}) =>
  fetch(`${proxy.gw.url}/v1/chat/completions`, { method: 'POST', headers, body, ...init })

describe('upstream faults', () => {
  it('keeps a 429 and its Retry-After', async () => {
    proxy.mock.fail({ status: 429, headers: { 'retry-after': '7' }, body: { error: { message: 'Rate limit reached', type: 'requests' } } })
    const error = (await proxy.client.chat.completions.create(chat()).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error.message).toBe('429 Acme: Rate limit reached')
    expect(error.headers?.get('retry-after')).toBe('7')
  })

  it('keeps a 5xx status with the upstream\'s message in the OpenAI envelope', async () => {
    proxy.mock.fail({ status: 503, body: { error: { message: 'overloaded' } } })
    const res = await post(JSON.stringify(chat()))
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ error: { message: 'Acme: overloaded', type: 'service_unavailable', param: null, code: 'upstream_error' }, detail: 'Acme: overloaded' })
  })

  it('ends an upstream that never answers with 504', async () => {
    proxy.mock.fail({ delayMs: 5000 })
    const res = await post(JSON.stringify(chat()))
    expect(res.status).toBe(504)
    expect((await res.json()).error).toMatchObject({ message: 'Acme did not answer within 300 ms', code: 'upstream_timeout' })
  })

  it('ends a stream that stalls with an error event the SDK raises, and no [DONE]', async () => {
    proxy.mock.fail({ stallAfter: 3 })
    const stream = await proxy.client.chat.completions.create({ ...chat(), stream: true })
    const seen: string[] = []
    const error = await (async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? '')
    })().catch((e: unknown) => e)
    expect(seen).toEqual(['', 'You', ' said:'])
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as Error).message).toBe('Acme sent nothing for 300 ms')
    const raw = await (await (proxy.mock.fail({ stallAfter: 2 }), post(JSON.stringify(chat({ stream: true }))))).text()
    expect(raw).not.toContain('[DONE]')
    expect(raw.trim().split('\n\n').at(-1)).toBe('data: {"error":{"message":"Acme sent nothing for 300 ms","type":"server_error","param":null,"code":"upstream_timeout"}}')
  })

  it('answers 502 when the upstream cannot be reached', async () => {
    const dead = await proxyServer({ url: 'http://127.0.0.1:1' })
    const res = await fetch(`${dead.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat()) })
    expect(res.status).toBe(502)
    expect((await res.json()).error).toEqual({ message: 'Acme could not be reached (ECONNREFUSED)', type: 'server_error', param: null, code: 'upstream_unreachable' })
    await dead.close()
  })

  it('sends a request once more when the upstream drops the connection before answering (a stale keep-alive connection), but only once', async () => {
    proxy.mock.fail({ drop: true })
    const res = await post(JSON.stringify(chat()))
    expect(res.status).toBe(200)
    expect((await res.json()).choices[0].message.content).toBe('You said: one two three four')
    expect(proxy.mock.seen).toHaveLength(2)
    proxy.mock.seen.length = 0
    proxy.mock.fail({ drop: true })
    proxy.mock.fail({ drop: true })
    const again = await post(JSON.stringify(chat()))
    expect(again.status).toBe(502)
    expect((await again.json()).error).toMatchObject({ message: 'Acme could not be reached (ECONNRESET)', code: 'upstream_unreachable' })
    expect(proxy.mock.seen).toHaveLength(2)
  })

  it('answers 502 when the upstream resets the connection mid-stream', async () => {
    proxy.mock.fail({ resetAfter: 2 })
    const raw = await (await post(JSON.stringify(chat({ stream: true })))).text()
    expect(raw).toContain('"code":"upstream_unreachable"')
    expect(raw).not.toContain('[DONE]')
  })
})

describe('client disconnects', () => {
  it('close the upstream request at once, streamed or not', async () => {
    for (const stream of [true, false]) {
      proxy.mock.seen.length = 0
      proxy.mock.fail(stream ? { stallAfter: 1 } : { delayMs: 2000 })
      const controller = new AbortController()
      const res = post(JSON.stringify(chat({ stream })), undefined, { signal: controller.signal })
      if (stream) await (await res).body!.getReader().read()
      else await until(() => proxy.mock.seen.length === 1, 'the request to reach the upstream')
      controller.abort()
      await res.catch(() => {})
      await until(() => proxy.mock.seen[0]!.closed === true, `the upstream request to close (stream: ${stream})`, 1000)
    }
    const stats = await (await fetch(`${proxy.gw.url}/api/stats`)).json()
    expect(stats.aborted_by_model.chat).toBeGreaterThanOrEqual(2)
  })

  it('a stream cancelled before its first read through app.fetch (no socket) is still ended: counted as aborted, its upstream closed', async () => {
    proxy.mock.seen.length = 0
    proxy.mock.fail({ stallAfter: 1 })
    const aborted = async () => ((await (await fetch(`${proxy.gw.url}/api/stats`)).json()).aborted_by_model?.chat ?? 0) as number
    const before = await aborted()
    const controller = new AbortController()
    // The app without a socket, as a server sees a client that left before the body was read.
    const res = await proxy.gw.app.fetch(new Request(`${proxy.gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat({ stream: true })), signal: controller.signal }))
    controller.abort()
    await res.body!.cancel()
    await until(() => proxy.mock.seen[0]?.closed === true, 'the upstream request to close', 2000)
    const deadline = Date.now() + 2000
    while ((await aborted()) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(await aborted()).toBe(before + 1)
  })

  it('a stream whose client leaves before its first event is still ended: counted as aborted, its upstream closed', async () => {
    proxy.mock.seen.length = 0
    proxy.mock.fail({ stallAfter: 0 }) // headers, then silence (a model thinking)
    const aborted = async () => ((await (await fetch(`${proxy.gw.url}/api/stats`)).json()).aborted_by_model?.chat ?? 0) as number
    const before = await aborted()
    const body = JSON.stringify(chat({ stream: true }))
    const socket = connect(Number(new URL(proxy.gw.url).port), '127.0.0.1')
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
    // The headers come at once; the client leaves before any event.
    const head = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())))
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*content-type: text\/event-stream/)
    socket.destroy()
    await until(() => proxy.mock.seen[0]?.closed === true, 'the upstream request to close', 2000)
    const deadline = Date.now() + 2000
    while ((await aborted()) === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(await aborted()).toBe(before + 1)
  })
})

describe('request bodies', () => {
  // A chat request of exactly `size` bytes.
  const body = (size: number) => {
    const empty = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: '' }] })
    return JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(size - empty.length) }] })
  }

  it('answer 413 one byte over MAX_BODY_BYTES, declared or streamed, before any upstream call', async () => {
    expect(body(200).length).toBe(200)
    expect((await post(body(200))).status).toBe(200)
    const declared = await post(body(201))
    expect(declared.status).toBe(413)
    expect((await declared.json()).error.message).toBe('the request body is larger than 200 bytes (MAX_BODY_BYTES)')
    const bytes = new TextEncoder().encode(body(201))
    const chunked = new ReadableStream({ start: (c) => (c.enqueue(bytes.slice(0, 100)), c.enqueue(bytes.slice(100)), c.close()) })
    const streamed = await post(chunked as unknown as NonNullable<RequestInit['body']>, { 'content-type': 'application/json' }, { duplex: 'half' } as RequestInit)
    expect(streamed.status).toBe(413)
    expect(proxy.mock.seen).toHaveLength(1)
  })

  it.each([
    ['malformed JSON', 400, '{"model":', 'application/json', /^the body is not valid JSON: /],
    ['a JSON array', 400, '[]', 'application/json', /^the body must be a JSON object$/],
    ['another content type', 415, 'model=chat', 'application/x-www-form-urlencoded', /^send the body as JSON with Content-Type: application\/json/],
    ['no model', 400, '{"messages":[]}', 'application/json', /^model is required: name a model from GET \/v1\/models$/],
  ])('answer %s with %i', async (_, status, text, type, message) => {
    const res = await post(text, { 'content-type': type })
    expect(res.status).toBe(status)
    expect((await res.json()).error.message).toMatch(message)
    expect(proxy.mock.seen).toHaveLength(0)
  })
})

describe('an upstream error event inside a stream', () => {
  it('reaches the client as the upstream sent it, with the provider key redacted', async () => {
    proxy.mock.fail({ inject: { after: 2, text: `data: {"error":{"message":"key ${ACME_KEY} was revoked","type":"server_error"}}\n\n` } })
    const raw = await (await post(JSON.stringify(chat({ stream: true })))).text()
    expect(raw.trim().split('\n\n').at(-1)).toBe('data: {"error":{"message":"key [redacted] was revoked","type":"server_error"}}')
    expect(raw).not.toContain(ACME_KEY)
  })
})
