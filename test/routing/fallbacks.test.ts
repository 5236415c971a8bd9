import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { nodeHandler } from '../../src/node-handler.ts'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { redisServer } from '../../scripts/redis-server.ts'
import { ACME_KEY, CLAUDE_KEY, compileOk, mockServer, NOW, until } from '../_setup.ts'

const catalog = compileOk(readFileSync(new URL('../fixtures/routing.yaml', import.meta.url), 'utf8'))
const user = (content: string) => [{ role: 'user' as const, content }]
// The gateway's clock: it moves only when a test moves it.
let time = NOW.getTime()
let a: Awaited<ReturnType<typeof mockServer>>
let b: Awaited<ReturnType<typeof mockServer>>
let url: string
let close: () => Promise<void>
let client: OpenAI
let logs: string[]
let redis: Awaited<ReturnType<typeof redisServer>>
beforeAll(async () => {
  a = await mockServer()
  b = await mockServer()
  redis = await redisServer()
})
afterAll(async () => {
  await a.close()
  await b.close()
  await redis.stop()
})
// Each test has a gateway of its own: no turn, failure count or cooldown carries over.
beforeEach(async () => {
  for (const m of [a, b]) {
    m.seen.length = 0
    m.failAll()
  }
  logs = []
  ;({ url, close, client } = await gateway())
})
afterEach(() => close())

// A gateway on the routing catalog behind a real server, with `env` added.
async function gateway(env: Record<string, string> = {}) {
  const all = { ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY, A_BASE_URL: `${a.url}/v1`, B_BASE_URL: `${b.url}/v1`, CLAUDE_BASE_URL: a.url, ...env }
  const { app, gateway } = createApp({ catalog, env: all, now: () => new Date(time), log: (line) => logs.push(line) })
  const server = createServer(nodeHandler(app))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const at = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const closeServer = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())))
  return { url: at, gateway, close: async () => (await closeServer(), await gateway.close()), client: new OpenAI({ baseURL: `${at}/v1`, apiKey: 'unused', maxRetries: 0 }) }
}

// The model ids each mock was sent, in order.
const sentTo = (m: typeof a) => m.seen.filter((s) => s.method === 'POST').map((s) => (s.body as { model: string }).model)
const stats = async () => (await (await fetch(`${url}/api/stats`)).json()) as Record<string, any>
const metrics = async () => (await fetch(`${url}/metrics`)).text()
const text = async (stream: AsyncIterable<OpenAI.ChatCompletionChunk>) => {
  let out = ''
  for await (const chunk of stream) out += chunk.choices[0]?.delta.content ?? ''
  return out
}

describe('deployments', () => {
  it('spreads requests by weight: 3 of every 4 to the heavier place, never two of the light one in a row', async () => {
    const served: string[] = []
    for (let i = 0; i < 8; i++) served.push((await client.chat.completions.create({ model: 'spread', messages: user(`spread ${i}`) })).model)
    expect(served.map((id) => id.slice(-1))).toEqual(['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a'])
    expect(sentTo(a)).toEqual(Array(6).fill('spread-on-a'))
    expect(sentTo(b)).toEqual(Array(2).fill('spread-on-b'))
  })

  it('a place that fails is followed by the next one, within the same request', async () => {
    a.failAll({ status: 503 })
    const answers = await Promise.all([0, 1, 2, 3].map((i) => client.chat.completions.create({ model: 'spread', messages: user(`next ${i}`) })))
    expect(answers.map((r) => r.model)).toEqual(Array(4).fill('spread-on-b'))
    expect(sentTo(a)).toEqual(Array(3).fill('spread-on-a')) // its three turns of four, each tried once
    expect(sentTo(b)).toHaveLength(4)
  })

  it('a dated snapshot a pattern finds goes to the model\'s provider under its own id, whatever the deployments', async () => {
    for (let i = 0; i < 3; i++) expect((await client.chat.completions.create({ model: `spread-202${i}`, messages: user('dated') })).model).toBe(`spread-202${i}`)
    expect(sentTo(a)).toEqual(['spread-2020', 'spread-2021', 'spread-2022'])
  })

  it('a place that keeps failing cools down: skipped until its cooldown is over, then tried again', async () => {
    a.failAll({ status: 503 })
    for (let i = 0; i < 2; i++) expect((await client.chat.completions.create({ model: 'cooling', messages: user('x') })).model).toBe('cooling-on-b')
    expect(sentTo(a)).toHaveLength(2) // two failures in a row: the cooldown starts
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'cooling', messages: user('x') })
    expect(sentTo(a)).toHaveLength(2)
    expect(await metrics()).toContain('gateway_cooldowns_total{deployment="flaky/cooling-on-a"} 1')
    time += 60_000
    a.failAll()
    expect((await client.chat.completions.create({ model: 'cooling', messages: user('x') })).model).toBe('cooling-on-a')
  })
})

describe('cooldowns across replicas', () => {
  it('a cooldown one replica starts is kept by the others through Redis, and by one that starts later', async () => {
    const [one, two] = [await gateway({ REDIS_URL: redis.url }), await gateway({ REDIS_URL: redis.url })]
    try {
      a.failAll({ status: 503 })
      for (let i = 0; i < 2; i++) await one.client.chat.completions.create({ model: 'cooling', messages: user('x') })
      expect(sentTo(a)).toHaveLength(2)
      const three = await gateway({ REDIS_URL: redis.url })
      try {
        // The others hear it as it is published (or read it as they connect), and skip the place without having seen it fail.
        for (const replica of [two, three]) await until(() => replica.gateway.cooldowns.cooling('flaky/cooling-on-a'), 'the cooldown to reach the replica')
        for (const replica of [two, three]) expect((await replica.client.chat.completions.create({ model: 'cooling', messages: user('x') })).model).toBe('cooling-on-b')
        expect(sentTo(a)).toHaveLength(2)
      } finally {
        await three.close()
      }
    } finally {
      await one.close()
      await two.close()
    }
  })
})

describe('fallbacks', () => {
  it('a 500 on the primary is served by its first fallback, shaped by the fallback\'s rules, and named as the one that served', async () => {
    a.fail({ status: 500 })
    const res = await client.chat.completions.create({ model: 'primary', messages: user('fall back'), max_completion_tokens: 50 }).withResponse()
    expect(res.data).toMatchObject({ model: 'claude-fb', choices: [{ message: { content: expect.stringContaining('fall back') } }] })
    expect(res.response.headers.get('x-gateway-model')).toBe('claude-fb')
    const [first, second] = a.seen
    expect([first!.path, second!.path]).toEqual(['/v1/chat/completions', '/v1/messages'])
    expect(second!.body).toMatchObject({ model: 'claude-upstream', max_tokens: 50 })
    expect((await stats()).fallbacks).toMatchObject({ primary: { 'claude-fb': 1 } })
    expect(JSON.parse(logs.at(-2)!)).toMatchObject({ path: '/v1/chat/completions', status: 200, model: 'claude-fb', requested_model: 'primary' })
  })

  it('a 500 before a stream is served by the fallback\'s stream, whole', async () => {
    a.fail({ status: 500 })
    const { data, response } = await client.chat.completions.create({ model: 'primary', messages: user('streamed over'), stream: true }).withResponse()
    expect(response.headers.get('x-gateway-model')).toBe('claude-fb')
    expect(await text(data)).toMatch(/streamed over/)
  })

  it('a stream that fails before its first event falls back', async () => {
    a.fail({ resetAfter: 0 })
    expect(await text(await client.chat.completions.create({ model: 'primary', messages: user('reset at once'), stream: true }))).toMatch(/reset at once/)
    expect(a.seen.map((s) => s.path)).toEqual(['/v1/chat/completions', '/v1/messages'])
  })

  it('a stream reset after three events ends with an error event, is never switched, and is counted as truncated', async () => {
    a.fail({ resetAfter: 3 })
    const raw = await (await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'primary', messages: user('one two three four five six'), stream: true }) })).text()
    const events = raw.split('\n\n').filter(Boolean)
    expect(events).toHaveLength(4)
    expect(JSON.parse(events[3]!.slice(6))).toMatchObject({ error: { code: 'upstream_unreachable' } })
    expect(raw).not.toContain('[DONE]')
    expect(a.seen.map((s) => s.path)).toEqual(['/v1/chat/completions'])
    expect(sentTo(b)).toEqual([])
    expect((await stats()).truncated_by_model).toEqual({ primary: 1 })
    expect(await metrics()).toContain('gateway_model_truncated_total{model="primary"} 1')
  })

  it.each([400, 401, 404, 422])('a %i on the primary is passed on, never to a fallback', async (status) => {
    a.fail({ status })
    await expect(client.chat.completions.create({ model: 'primary', messages: user('x') })).rejects.toMatchObject({ status, message: expect.stringContaining(`mock fault: status ${status}`) })
    expect(a.seen).toHaveLength(1)
    expect(b.seen).toHaveLength(0)
  })

  it('a fallback takes the request as its rules allow: an effort it lacks is dropped and reported', async () => {
    a.fail({ status: 503 })
    a.fail({ status: 503 }) // claude-fb, on the same server, fails too
    const res = await client.chat.completions.create({ model: 'primary', messages: user('effort'), reasoning_effort: 'minimal' }).withResponse()
    expect(res.response.headers.get('x-gateway-model')).toBe('think-fb')
    expect(res.response.headers.get('x-gateway-dropped-params')).toBe('reasoning_effort')
    expect(b.seen[0]!.body).not.toHaveProperty('reasoning_effort')
    expect(a.seen[0]!.body).toMatchObject({ reasoning_effort: 'minimal' })
  })

  it('a fallback that does not serve the API is skipped: Responses go to the next one that does', async () => {
    a.fail({ status: 502 })
    const res = await client.responses.create({ model: 'primary', input: 'responses elsewhere' }).withResponse()
    expect(res.response.headers.get('x-gateway-model')).toBe('think-fb')
    expect(res.data.output_text).toMatch(/responses elsewhere/)
    expect(a.seen.map((s) => s.path)).toEqual(['/v1/responses'])
  })

  it('a fallback that refuses the request is passed over: the next one serves', async () => {
    a.fail({ status: 503 })
    a.fail({ status: 400 }) // claude-fb's upstream refuses it
    const res = await client.chat.completions.create({ model: 'primary', messages: user('next one') }).withResponse()
    expect(res.response.headers.get('x-gateway-model')).toBe('think-fb')
  })

  it('when every fallback refuses, the primary\'s failure is the answer', async () => {
    a.failAll({ status: 503 })
    b.failAll({ status: 422 })
    await expect(client.chat.completions.create({ model: 'primary', messages: user('x') })).rejects.toMatchObject({ status: 503, message: expect.stringContaining('mock fault: status 503') })
  })

  it('a model whose provider is not configured is served by its fallback', async () => {
    const res = await client.chat.completions.create({ model: 'unconfigured', messages: user('unkeyed') }).withResponse()
    expect(res.response.headers.get('x-gateway-model')).toBe('local-fb')
  })

  it('a model whose provider is not configured answers its fallback\'s refusal when that is all there is', async () => {
    b.fail({ status: 400 })
    await expect(client.chat.completions.create({ model: 'unconfigured', messages: user('x') })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('mock fault: status 400') })
  })

  it('when every place fails, the last failure is answered', async () => {
    a.failAll({ status: 503 })
    b.failAll({ status: 500 })
    await expect(client.chat.completions.create({ model: 'primary', messages: user('x') })).rejects.toMatchObject({ status: 500, message: expect.stringContaining('mock fault: status 500') })
    expect(a.seen.map((s) => s.path)).toEqual(['/v1/chat/completions', '/v1/messages'])
    expect(sentTo(b)).toEqual(['think-fb', 'local-fb'])
  })
})

describe('weighted aliases', () => {
  it('give each caller the same model every time, split the callers by weight, and count each arm', async () => {
    const arms = new Map<string, string>()
    for (let i = 0; i < 60; i++) {
      const userId = `user-${i % 30}`
      const res = await client.chat.completions.create({ model: 'ab', messages: user('which arm'), user: userId }).withResponse()
      const arm = res.response.headers.get('x-gateway-model')!
      if (arms.has(userId)) expect(arm).toBe(arms.get(userId))
      arms.set(userId, arm)
    }
    const counts = [...arms.values()].reduce<Record<string, number>>((n, arm) => ({ ...n, [arm]: (n[arm] ?? 0) + 1 }), {})
    expect(Object.keys(counts).sort()).toEqual(['arm-a', 'arm-b'])
    expect(counts['arm-a']).toBeGreaterThan(5) // 30 callers, half each by weight: the hash puts them
    expect(counts['arm-b']).toBeGreaterThan(5)
    const split = (await stats()).weighted_aliases.ab
    expect(split['arm-a'].requests + split['arm-b'].requests).toBe(60)
    expect(split['arm-a'].requests).toBe(counts['arm-a']! * 2)
    expect(split['arm-b'].cost).toBeGreaterThan(0)
    expect(await metrics()).toContain(`gateway_weighted_alias_requests_total{alias="ab",model="arm-a"} ${counts['arm-a']! * 2}`)
  })

  it('without a user, the caller is its key', async () => {
    const keyed = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'a-caller-key', maxRetries: 0 })
    const seen = new Set<string>()
    for (let i = 0; i < 5; i++) seen.add((await keyed.chat.completions.create({ model: 'ab', messages: user('x') }).withResponse()).response.headers.get('x-gateway-model')!)
    expect(seen.size).toBe(1)
  })
})
