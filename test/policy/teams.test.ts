import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ACME_KEY, ADMIN, CLAUDE_KEY, mockServer, NOW, until } from '../_setup.ts'
import { TEAM_KEYS, teamsPolicy, teamsServer, testClock } from './_teams.ts'

const user = (content: string) => [{ role: 'user' as const, content }]
const bearer = (team: keyof typeof TEAM_KEYS) => ({ authorization: `Bearer ${TEAM_KEYS[team]}` })

let mock: Awaited<ReturnType<typeof mockServer>>
let gw: Awaited<ReturnType<typeof teamsServer>>
const clock = testClock(NOW)
beforeAll(async () => {
  mock = await mockServer()
  gw = await teamsServer(mock, { now: clock.now })
})
afterAll(async () => {
  await gw.close()
  await mock.close()
})
// Each test starts with full buckets: a minute later than the last.
afterEach(() => clock.advance(120_000))

const get = async (path: string, team: keyof typeof TEAM_KEYS) => (await fetch(`${gw.url}${path}`, { headers: bearer(team) })).json()

describe('team keys', () => {
  it('refuse a key that is no team\'s, naming what to send (401)', async () => {
    const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: 'Bearer not-a-team-key-0123456789' } })
    expect(res.status).toBe(401)
    // The admin token opens the client routes too, but the message names no unset variable.
    expect((await res.json()).error).toMatchObject({ code: 'invalid_api_key', message: 'a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key> (a team key from teams.yaml)' })
    const none = await fetch(`${gw.url}/v1/models`)
    expect({ status: none.status, message: (await none.json()).error.message }).toEqual({ status: 401, message: 'a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key> (a team key from teams.yaml)' })
  })

  it('compile from the fixture with aliases resolved and globs kept', () => {
    expect(teamsPolicy.teams.alpha).toMatchObject({ models: ['chat', 'think', 'embed'], globs: [], experimental: false, limits: { rpm: 5, tpm: 1000, models: { think: { rpm: 2 } } } })
    expect(teamsPolicy.teams.beta).toMatchObject({ models: [], globs: ['c*'], experimental: true, budget: 0.00005 })
    expect(teamsPolicy.teams.gamma).not.toHaveProperty('models')
  })
})

describe('listings are per key', () => {
  it.each([
    ['alpha', ['chat', 'think', 'embed']],
    ['beta', ['chat', 'claude', 'chat-preview']], // chat-preview: experimental, which beta takes
    ['gamma', ['chat', 'think', 'pro', 'claude', 'embed', 'rerank', 'mod', 'instruct', 'soon', 'qwen-local']],
  ] as const)('%s sees only what it may call, in every dialect', async (team, ids) => {
    expect((await get('/v1/models', team)).data.map((m: { id: string }) => m.id)).toEqual(ids)
    expect((await get('/api/models', team)).models.map((m: { id: string }) => m.id)).toEqual(ids)
    expect((await get('/api/tags', team)).models.map((m: { name: string }) => m.name.replace(/:latest$/, ''))).toEqual(ids)
    const groups = await get('/api/models/by-endpoint', team)
    expect(Object.values(groups).flat().sort()).toEqual(ids.filter((id) => ['chat', 'think', 'pro', 'claude', 'chat-preview', 'soon'].includes(id)).sort())
  })

  it('a model outside the team\'s list does not exist for it (404 model_not_found), in every dialect', async () => {
    const alpha = gw.client('alpha')
    const error = await alpha.chat.completions.create({ model: 'claude', messages: user('hi') }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', message: "404 The model 'claude' does not exist or you do not have access to it." })
    const one = await fetch(`${gw.url}/v1/models/claude`, { headers: bearer('alpha') })
    expect({ status: one.status, error: (await one.json()).error }).toMatchObject({ status: 404, error: { code: 'model_not_found', message: "The model 'claude' does not exist or you do not have access to it." } })
    const show = await fetch(`${gw.url}/api/show`, { method: 'POST', headers: bearer('alpha'), body: JSON.stringify({ model: 'claude' }) })
    expect({ status: show.status, body: await show.json() }).toEqual({ status: 404, body: { error: "model 'claude' not found" } })
    const chat = await fetch(`${gw.url}/api/chat`, { method: 'POST', headers: bearer('alpha'), body: JSON.stringify({ model: 'claude', messages: user('hi'), stream: false }) })
    expect({ status: chat.status, body: await chat.json() }).toEqual({ status: 404, body: { error: "The model 'claude' does not exist or you do not have access to it." } })
    expect(mock.seen.filter((s) => s.path === '/v1/messages')).toEqual([])
  })

  it('experimental models exist only for teams that take them', async () => {
    const error = await gw.client('gamma').chat.completions.create({ model: 'chat-preview', messages: user('hi') }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', message: "404 The model 'chat-preview' does not exist or you do not have access to it." })
    const answer = await gw.client('beta').chat.completions.create({ model: 'chat-preview', messages: user('hi') })
    expect(answer.choices[0]!.message.content).toMatch(/hi/)
  })
})

describe('limits', () => {
  it('over rpm: 429 with retry-after and OpenAI\'s x-ratelimit headers, until the bucket refills', async () => {
    const alpha = gw.client('alpha')
    const remaining: string[] = []
    for (let i = 0; i < 5; i++) {
      const { response } = await alpha.chat.completions.create({ model: 'chat', messages: user('hi') }).withResponse()
      remaining.push(response.headers.get('x-ratelimit-remaining-requests')!)
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('5')
      expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('1000')
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0'])
    const seen = mock.seen.length
    const error = (await alpha.chat.completions.create({ model: 'chat', messages: user('hi') }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error' })
    expect(error.message).toBe("429 Rate limit reached for team 'alpha' on requests per min (RPM): Limit 5, Remaining 0, Requested 1. Please try again in 12s.")
    expect(Object.fromEntries(['retry-after', 'retry-after-ms', 'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests'].map((h) => [h, error.headers!.get(h)]))).toEqual({
      'retry-after': '12', 'retry-after-ms': '12000', 'x-ratelimit-limit-requests': '5', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1m0s',
    })
    expect(mock.seen.length).toBe(seen) // refused before any upstream call
    clock.advance(12_000) // one request's worth refilled
    await alpha.chat.completions.create({ model: 'chat', messages: user('hi') })
    await expect(alpha.chat.completions.create({ model: 'chat', messages: user('hi') })).rejects.toMatchObject({ status: 429 })
  })

  it('the official SDK backs off by itself on the retry-after it gets, and gets through', async () => {
    const headers = { ...bearer('delta'), 'content-type': 'application/json' }
    const body = JSON.stringify({ model: 'chat', messages: user('spend') })
    for (let i = 0; i < 12; i++) await Promise.all(Array.from({ length: 50 }, () => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body }).then((r) => r.arrayBuffer())))
    const refused = () => gw.logs.filter((l) => l.includes('"status":429') && l.includes('"team":"delta"')).length
    expect(refused()).toBe(0)
    const pending = gw.client('delta', 5).chat.completions.create({ model: 'chat', messages: user('wait for me') })
    await until(() => refused() > 0, 'the SDK\'s first attempt to be refused')
    clock.advance(1_000) // the bucket refills while the SDK waits the 100 ms it was told
    expect((await pending).choices[0]!.message.content).toMatch(/wait for me/)
    // Refused before the upstream, then let through: the upstream saw it once.
    expect(mock.seen.filter((s) => JSON.stringify(s.body).includes('wait for me'))).toHaveLength(1)
  })

  it('every answer to a team with an rpm says how many requests it has left: listings and errors too', async () => {
    await gw.client('alpha').chat.completions.create({ model: 'chat', messages: user('one') })
    for (const path of ['/v1/models', '/api/tags', '/v1/models/claude', '/api/stats']) {
      const res = await fetch(`${gw.url}${path}`, { headers: bearer('alpha') })
      expect([path, res.headers.get('x-ratelimit-limit-requests'), res.headers.get('x-ratelimit-remaining-requests')]).toEqual([path, '5', '4'])
    }
    expect((await fetch(`${gw.url}/v1/models`, { headers: bearer('gamma') })).headers.has('x-ratelimit-remaining-requests')).toBe(false) // no rpm, nothing to say
  })

  it('the Ollama routes draw from the same limits, and answer 429 in Ollama\'s shape', async () => {
    const ollama = (content: string) => fetch(`${gw.url}/api/chat`, { method: 'POST', headers: bearer('alpha'), body: JSON.stringify({ model: 'chat', messages: user(content), stream: false }) })
    for (let i = 0; i < 5; i++) expect((await ollama(`call ${i}`)).status).toBe(200)
    const refused = await ollama('one more')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('12')
    expect(await refused.json()).toEqual({ error: "Rate limit reached for team 'alpha' on requests per min (RPM): Limit 5, Remaining 0, Requested 1. Please try again in 12s." })
  })

  it('a stream its client leaves before the usage keeps its whole estimate drawn', async () => {
    const tokens = async () => Number((await gw.client('alpha').chat.completions.create({ model: 'chat', messages: user('x') }).withResponse()).response.headers.get('x-ratelimit-remaining-tokens'))
    const before = await tokens()
    const aborted = () => gw.gateway.stats.snapshot(NOW).aborted_by_model.chat ?? 0
    const left = aborted()
    mock.fail({ stallAfter: 1 }) // the first chunk, then nothing: the usage would come last
    const controller = new AbortController()
    const stream = await gw.client('alpha').chat.completions.create({ model: 'chat', messages: user('leave early'), max_tokens: 300, stream: true }, { signal: controller.signal })
    for await (const _ of stream) {
      controller.abort()
      break
    }
    await until(() => aborted() > left, 'the stream to be counted as aborted')
    expect(await tokens()).toBeLessThanOrEqual(before - 300) // still drawn: no usage came to settle it
  })

  it('a per-model rpm holds on top of the team\'s', async () => {
    const alpha = gw.client('alpha')
    await alpha.chat.completions.create({ model: 'think', messages: user('a') })
    await alpha.chat.completions.create({ model: 'think', messages: user('b') })
    const error = await alpha.chat.completions.create({ model: 'think', messages: user('c') }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 429, message: "429 Rate limit reached for team 'alpha' for model 'think' on requests per min (RPM): Limit 2, Remaining 0, Requested 1. Please try again in 30s." })
    await alpha.chat.completions.create({ model: 'chat', messages: user('d') }) // the team's own rpm still has room
  })

  it('reserves the requested output before the call and settles with the usage after, streams included', async () => {
    const alpha = gw.client('alpha')
    // 2 tokens of prompt estimate and 900 of output reserved: the bucket could not take a second such request.
    const first = await alpha.chat.completions.create({ model: 'chat', messages: user('hi'), max_tokens: 900 }).withResponse()
    expect(Number(first.response.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(100)
    const used = first.data.usage!.total_tokens
    // Settled: what the estimate reserved beyond the usage is back.
    const stream = await alpha.chat.completions.create({ model: 'chat', messages: user('hi'), max_tokens: 900, stream: true }).withResponse()
    expect(Number(stream.response.headers.get('x-ratelimit-remaining-tokens'))).toBeGreaterThan(1000 - used - 950)
    let text = ''
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta.content ?? ''
    expect(text).toMatch(/hi/)
    const after = await alpha.chat.completions.create({ model: 'chat', messages: user('hi'), max_tokens: 900 }).withResponse()
    expect(after.response.status).toBe(200) // the stream's reservation was settled too
  })

  it('a spent budget stops spending within one request of it: 429 insufficient_quota, which the SDK does not retry', async () => {
    const beta = gw.client('beta', 2)
    const spent = async () => (await get('/api/stats', 'beta')).teams?.beta?.cost ?? 0
    let error: unknown
    let last = 0
    for (let i = 0; i < 10 && !error; i++) {
      const before = await spent()
      const seen = mock.seen.length
      error = await beta.chat.completions.create({ model: 'chat', messages: user(`call ${i}`) }).then(() => undefined, (e: unknown) => e)
      if (error) expect(mock.seen.length).toBe(seen) // refused before any upstream call, and not retried
      else last = (await spent()) - before
      if (!error) expect(before).toBeLessThan(0.00005) // it was let through only while under budget
    }
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(error).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' })
    const total = await spent()
    expect(total).toBeGreaterThanOrEqual(0.00005)
    expect(total).toBeLessThan(0.00005 + last) // past the budget by less than the last request
    expect((error as Error).message).toBe(`429 You exceeded your current quota: team 'beta' has spent $${Number(total.toFixed(6))} of its $0.00005 budget for 2026-11; it renews on 2026-12-01.`)
    expect((await get('/api/stats', 'beta')).teams.beta.limited).toEqual({ requests: 0, tokens: 0, budget: 1 })
  })
})

describe('per-team figures, and no key in sight', () => {
  it('a team sees its own figures and its models\' in /api/stats; /metrics (every team\'s) is not for team keys', async () => {
    await gw.client('alpha').chat.completions.create({ model: 'chat', messages: user('mine') })
    await gw.client('gamma').chat.completions.create({ model: 'claude', messages: user('theirs') })
    const alpha = await get('/api/stats', 'alpha')
    expect(Object.keys(alpha.teams)).toEqual(['alpha'])
    expect(Object.keys(alpha.requests_by_model).every((m) => ['chat', 'think', 'embed'].includes(m))).toBe(true)
    expect(alpha.requests_by_model).not.toHaveProperty('claude')
    expect(Object.keys((await get('/api/stats', 'gamma')).teams)).toEqual(['gamma'])
    const res = await fetch(`${gw.url}/metrics`, { headers: bearer('gamma') })
    expect(res.status).toBe(403)
    expect((await res.json()).error).toMatchObject({ code: 'permission_denied', message: "/metrics holds every team's figures: scrape it with the admin token or one of GATEWAY_API_KEYS, not a team key" })
  })

  it('counts requests, tokens, cost and limited requests by team in /api/stats and /metrics, never a key or its hash', async () => {
    const gamma = gw.client('gamma')
    await gamma.chat.completions.create({ model: 'claude', messages: user('count me') })
    const stats = await (await fetch(`${gw.url}/api/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()
    expect(stats.teams.gamma).toMatchObject({ requests: 2, cost: expect.any(Number) })
    expect(stats.teams.gamma.prompt_tokens).toBeGreaterThan(0)
    const metrics = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
    expect(metrics).toMatch(/^gateway_team_requests_total\{team="gamma"\} [1-9]\d*$/m)
    expect(metrics).toMatch(/^gateway_team_limited_total\{team="alpha",limit="requests"\} [1-9]/m)
    const everything = [JSON.stringify(stats), metrics, gw.logs.join('\n')].join('\n')
    for (const [team, key] of Object.entries(TEAM_KEYS)) {
      expect(everything).not.toContain(key)
      for (const hash of teamsPolicy.teams[team]!.keys_sha256) expect(everything).not.toContain(hash)
    }
    expect(everything).not.toContain(ACME_KEY)
    expect(everything).not.toContain(CLAUDE_KEY)
  })
})
