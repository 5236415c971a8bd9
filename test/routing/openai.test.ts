import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { ACME_KEY, CLAUDE_KEY, proxyServer, useProxy } from '../_setup.ts'

const proxy = useProxy()

const last = () => proxy.mock.seen.at(-1)!
const user = (content: string) => [{ role: 'user' as const, content }]

describe('OpenAI-protocol calls through the official openai client', () => {
  it('answers a chat completion, sending the upstream id with the provider key only', async () => {
    const res = await proxy.client.chat.completions.create({ model: 'chat-latest', messages: user('hello there') }, { headers: { cookie: 'session=secret', 'x-custom': 'no' } })
    expect(res.choices[0]!.message.content).toBe('You said: hello there')
    expect(res.usage).toEqual({ prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 })
    expect(last().body).toMatchObject({ model: 'upstream-chat' })
    expect(last().headers.authorization).toBe(`Bearer ${ACME_KEY}`)
    expect(last().headers).not.toHaveProperty('cookie')
    expect(last().headers).not.toHaveProperty('x-custom')
    expect(JSON.stringify(last().headers)).not.toContain('client-key-not-forwarded')
  })

  it('streams chunks, hiding the usage chunk it asked for on the client\'s behalf', async () => {
    const stream = await proxy.client.chat.completions.create({ model: 'chat', messages: user('one two three'), stream: true })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('You said: one two three')
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop')
    expect(chunks.every((c) => c.choices.length === 1 && !c.usage)).toBe(true)
    expect(last().body).toMatchObject({ stream: true, stream_options: { include_usage: true } })
  })

  it('sends a stream\'s headers before its first event', async () => {
    proxy.mock.fail({ stallAfter: 0 }) // headers, then silence (a model thinking)
    const controller = new AbortController()
    const res = await fetch(`${proxy.gw.url}/v1/chat/completions`, { method: 'POST', signal: controller.signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', stream: true, messages: user('x') }) })
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    controller.abort()
  })

  it('passes the usage chunk when the client asks for it', async () => {
    const stream = await proxy.client.chat.completions.create({ model: 'chat', messages: user('a b'), stream: true, stream_options: { include_usage: true } })
    const chunks = []
    for await (const chunk of stream) chunks.push(chunk)
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 2, completion_tokens: 4 } })
  })

  it('serves legacy completions, streamed and not', async () => {
    expect((await proxy.client.completions.create({ model: 'instruct', prompt: 'hi you' })).choices[0]!.text).toBe('You said: hi you')
    const stream = await proxy.client.completions.create({ model: 'instruct', prompt: 'hi you', stream: true })
    let text = ''
    for await (const c of stream) text += c.choices[0]?.text ?? ''
    expect(text).toBe('You said: hi you')
  })

  it('serves the Responses API, streamed and not', async () => {
    expect((await proxy.client.responses.create({ model: 'pro', input: 'think hard' })).output_text).toBe('You said: think hard')
    const stream = await proxy.client.responses.create({ model: 'think', input: 'think hard', stream: true })
    const types = []
    for await (const e of stream) types.push(e.type)
    const delta = 'response.output_text.delta'
    expect(types).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', delta, delta, delta, delta, 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed'])
    // The SDK's stream helper assembles the whole sequence.
    const final = await proxy.client.responses.stream({ model: 'think', input: 'think again' }).finalResponse()
    expect(final.output_text).toBe('You said: think again')
  })

  it('serves embeddings, moderations and rerank', async () => {
    const emb = await proxy.client.embeddings.create({ model: 'embed', input: ['a', 'b'] })
    expect(emb.data).toHaveLength(2)
    expect(emb.data[0]!.embedding).toHaveLength(8)
    expect(proxy.local.seen.at(-1)!.headers).not.toHaveProperty('authorization') // a keyless local server
    expect((await proxy.client.moderations.create({ model: 'mod', input: 'violence' })).results[0]!.flagged).toBe(true)
    const res = await fetch(`${proxy.gw.url}/v1/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'rerank', query: 'red apple', documents: ['green pear', 'red apple pie', 'apple'], top_n: 2 }) })
    expect((await res.json()).results.map((r: { index: number }) => r.index)).toEqual([1, 2])
  })

  it('counts calls, tokens and cost by model in /api/stats and /metrics', async () => {
    const before = (await (await fetch(`${proxy.gw.url}/api/stats`)).json()).tokens_by_model.chat ?? { prompt: 0, completion: 0 }
    await proxy.client.chat.completions.create({ model: 'chat', messages: user('count me') })
    const stream = await proxy.client.chat.completions.create({ model: 'chat', messages: user('and me'), stream: true })
    for await (const _ of stream) void _
    const after = (await (await fetch(`${proxy.gw.url}/api/stats`)).json()).tokens_by_model.chat
    expect(after).toEqual({ prompt: before.prompt + 4, completion: before.completion + 8 })
    expect(await (await fetch(`${proxy.gw.url}/metrics`)).text()).toMatch(/gateway_model_tokens_total\{model="chat",type="prompt"\} \d+/)
  })
})

describe('price tiers', () => {
  const stats = async () => (await (await fetch(`${proxy.gw.url}/api/stats`)).json()) as { cost_by_model: Record<string, number>; tokens_by_model: Record<string, { prompt: number; completion: number }> }
  const think = async () => {
    const s = await stats()
    return { cost: s.cost_by_model.think ?? 0, ...(s.tokens_by_model.think ?? { prompt: 0, completion: 0 }) }
  }

  it('costs a prompt above a tier at the tier\'s rates for the whole request, a short one at the base rates', async () => {
    const t0 = await think()
    await proxy.client.chat.completions.create({ model: 'think', messages: user('a short prompt') })
    const t1 = await think()
    expect(t1.prompt - t0.prompt).toBeLessThanOrEqual(20)
    expect(t1.cost - t0.cost).toBeCloseTo(((t1.prompt - t0.prompt) * 1 + (t1.completion - t0.completion) * 4) / 1e6, 12)
    await proxy.client.chat.completions.create({ model: 'think', messages: user(Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ')) })
    const t2 = await think()
    expect(t2.prompt - t1.prompt).toBeGreaterThan(20)
    expect(t2.cost - t1.cost).toBeCloseTo(((t2.prompt - t1.prompt) * 2 + (t2.completion - t1.completion) * 6) / 1e6, 12)
    expect(await (await fetch(`${proxy.gw.url}/metrics`)).text()).toContain(`gateway_model_cost_usd_total{model="think"} ${t2.cost}`)
  })
})

describe('catalog rules, before any upstream call', () => {
  const expectError = async (promise: Promise<unknown>, status: number, code: string, message: string) => {
    const error = (await promise.catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect({ status: error.status, code: error.code, message: error.message }).toEqual({ status, code, message: `${status} ${message}` })
  }

  it.each([
    ['an unknown model', { model: 'nope', messages: user('x') }, 404, 'model_not_found', "The model 'nope' does not exist or you do not have access to it."],
    ['an API the model lacks', { model: 'pro', messages: user('x') }, 400, 'unsupported_api', "The model 'pro' does not support /v1/chat/completions: use /v1/responses."],
    ['max_tokens above max_output', { model: 'chat', messages: user('x'), max_tokens: 1001 }, 400, 'invalid_value', 'max_tokens is too large: 1001. This model supports at most 1000 completion tokens, whereas you provided 1001.'],
    ['a reasoning effort the model lacks', { model: 'think', messages: user('x'), reasoning_effort: 'medium' }, 400, 'unsupported_value', "Unsupported value: 'reasoning_effort' does not support \"medium\" with the model 'think' (supported: low, high)."],
    ['reasoning effort on a model without', { model: 'chat', messages: user('x'), reasoning_effort: 'low' }, 400, 'unsupported_value', "Unsupported value: 'reasoning_effort' does not support \"low\" with the model 'chat' (it takes no reasoning effort)."],
    ['a provider without its key', { model: 'orphan', messages: user('x') }, 503, 'provider_not_configured', "The provider 'nokey' of the model 'orphan' is not configured: set NOKEY_API_KEY."],
    ['a retired model', { model: 'old', messages: user('x') }, 410, 'model_retired', "The model 'old' was retired on 2026-06-01. Use chat instead."],
    ['an api_base in the body', { model: 'chat', messages: user('x'), api_base: 'http://evil.test' }, 400, 'unsupported_parameter', 'api_base is not accepted: the gateway chooses the upstream and its credentials from the catalog.'],
  ])('refuses %s', async (_, body, status, code, message) => {
    await expectError(proxy.client.chat.completions.create(body as never), status, code, message)
    expect(proxy.mock.seen).toEqual([])
  })

  it('renames max_tokens to the model\'s token-limit parameter', async () => {
    await proxy.client.chat.completions.create({ model: 'think', messages: user('x'), max_tokens: 100 })
    expect(last().body).toMatchObject({ max_completion_tokens: 100 })
    expect(last().body).not.toHaveProperty('max_tokens')
  })

  it('drops a temperature the model does not take, and says so', async () => {
    const { response } = await proxy.client.chat.completions.create({ model: 'think', messages: user('x'), temperature: 0.2 }).withResponse()
    expect(response.headers.get('x-gateway-dropped-params')).toBe('temperature')
    expect(last().body).not.toHaveProperty('temperature')
    const { response: kept } = await proxy.client.chat.completions.create({ model: 'think', messages: user('x'), temperature: 1 }).withResponse()
    expect(kept.headers.get('x-gateway-dropped-params')).toBeNull()
  })

  it('rejects it instead with UNSUPPORTED_PARAMS=reject', async () => {
    const strict = await proxyServer(proxy.mock, { UNSUPPORTED_PARAMS: 'reject' })
    const c = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: 'x', maxRetries: 0 })
    await expectError(c.chat.completions.create({ model: 'think', messages: user('x'), temperature: 0.2 }), 400, 'unsupported_value', "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.")
    await strict.close()
  })

  it('carries Deprecation and Sunset on a deprecated model\'s answers', async () => {
    const { response } = await proxy.client.chat.completions.create({ model: 'soon', messages: user('x') }).withResponse()
    expect(response.headers.get('sunset')).toBe('Sun, 31 Jan 2027 00:00:00 GMT')
    expect(response.headers.get('deprecation')).toBe(`@${Date.UTC(2026, 9, 1) / 1000}`)
  })
})

describe('the keys', () => {
  it('never appear in a response or a log line, even when the upstream echoes them', async () => {
    proxy.mock.fail({ status: 401, body: { error: { message: `Incorrect API key provided: ${ACME_KEY}. Also sk-acme-c*****7f3a.` } } })
    const res = await fetch(`${proxy.gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', messages: user('x') }) })
    expect(res.status).toBe(401)
    const text = await res.text()
    expect(JSON.parse(text).error.message).toBe('Acme: Incorrect API key provided: [redacted]. Also [redacted].')
    for (const secret of [ACME_KEY, CLAUDE_KEY]) {
      expect(text).not.toContain(secret)
      expect(JSON.stringify([...res.headers])).not.toContain(secret)
      expect(proxy.gw.logs.join('\n')).not.toContain(secret)
    }
  })
})
