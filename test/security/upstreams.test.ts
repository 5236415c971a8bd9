// An upstream that misbehaves on purpose: very long lines and events, events that are not JSON,
// compressed bodies it was not asked for, streams cut before their end, answers too large to
// hold, usage that is not a count, and clients inventing model ids. The replica stays bounded.
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { catalogYaml, compileOk, mockServer, useProxy } from '../_setup.ts'

const proxy = useProxy({ MAX_ANSWER_BYTES: '100000' })
const SSE = { 'content-type': 'text/event-stream' }
const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'upstream-chat', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
const errorEvent = (message: string, code: string) => `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code } })}\n\n`

async function stream(model = 'chat') {
  const res = await fetch(`${proxy.gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }) })
  return { status: res.status, text: await res.text() }
}
const stats = async () => (await fetch(`${proxy.gw.url}/api/stats`)).json()

describe('streams passed through', () => {
  it('a line longer than 16 MiB ends the stream with an error event, the events before it delivered', async () => {
    proxy.mock.fail({ status: 200, raw: `${chunk('first')}data: {"a":"${'x'.repeat(17 * 1024 * 1024)}`, headers: SSE })
    const { status, text } = await stream()
    expect(status).toBe(200)
    expect(text).toBe(`${chunk('first')}${errorEvent('Acme sent an event longer than 16777216 bytes', 'upstream_invalid')}`)
  })

  it('keep-alive comments and events that only mention the end pass as they came', async () => {
    const raw = `:\n\n${chunk('first')}: ping\n\n${chunk('data: [DONE]')}data: [DONE]\n\n`
    proxy.mock.fail({ status: 200, raw, headers: SSE })
    expect((await stream()).text).toBe(raw)
    // Text that says "data: [DONE]" is not the end: cut after it, the stream is truncated.
    proxy.mock.fail({ status: 200, raw: chunk('data: [DONE]'), headers: SSE })
    expect((await stream()).text).toBe(`${chunk('data: [DONE]')}${errorEvent('Acme ended the stream before its end ([DONE])', 'upstream_truncated')}`)
  })

  it('a Responses stream ends at response.completed however its event line is spelt', async () => {
    const raw = `event:response.created\ndata: {"type":"response.created"}\n\nevent:response.completed\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":1,"output_tokens":2}}}\n\n`
    proxy.mock.fail({ status: 200, raw, headers: SSE })
    const res = await fetch(`${proxy.gw.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'think', stream: true, input: 'hi' }) })
    // Re-written only where the usage was read (that event's line gains its space).
    expect(await res.text()).toBe(raw.replace('event:response.completed', 'event: response.completed'))
  })

  it('an event that is not JSON ends the stream with an error event', async () => {
    for (const bad of ['data: not json at all\n\n', 'data: {"cut":\n\n']) {
      proxy.mock.fail({ status: 200, raw: `${chunk('first')}${bad}${chunk('never')}data: [DONE]\n\n`, headers: SSE })
      const { text } = await stream()
      expect(text).toBe(`${chunk('first')}${errorEvent('Acme sent an event that is not JSON', 'upstream_invalid')}`)
    }
  })

  it('a stream that ends before [DONE] gets an error event and counts as truncated', async () => {
    const before = await stats()
    proxy.mock.fail({ status: 200, raw: `${chunk('first')}${chunk('second')}`, headers: SSE })
    const { text } = await stream()
    expect(text).toBe(`${chunk('first')}${chunk('second')}${errorEvent('Acme ended the stream before its end ([DONE])', 'upstream_truncated')}`)
    const after = await stats()
    expect(after.truncated_by_model.chat - (before.truncated_by_model.chat ?? 0)).toBe(1)
    expect(after.errors_by_model.chat - (before.errors_by_model.chat ?? 0)).toBe(1)
  })

  it('an Anthropic stream cut before message_stop counts as truncated too', async () => {
    const before = await stats()
    proxy.mock.fail({ status: 200, raw: `event: message_start\ndata: {"type":"message_start","message":{"id":"m1","usage":{"input_tokens":1}}}\n\n`, headers: SSE })
    const { text } = await stream('claude')
    expect(text).toContain('"message":"Claude ended the stream before message_stop"')
    expect((await stats()).truncated_by_model.claude - (before.truncated_by_model.claude ?? 0)).toBe(1)
  })

  it('a compressed answer the gateway did not ask for is 502, streamed or not', async () => {
    for (const streamed of [true, false]) {
      proxy.mock.fail({ status: 200, raw: '\x1f\x8b\x08\x00', headers: { 'content-type': streamed ? 'text/event-stream' : 'application/json', 'content-encoding': 'gzip' } })
      const res = await fetch(`${proxy.gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', stream: streamed, messages: [] }) })
      expect(res.status).toBe(502)
      expect((await res.json()).error).toEqual({ message: "Acme answered with content-encoding 'gzip' although the gateway asked for none", type: 'server_error', param: null, code: 'upstream_invalid' })
    }
    expect(proxy.mock.seen.map((s) => s.headers['accept-encoding'])).toEqual(['identity', 'identity'])
  })
})

describe('answers that are not streamed', () => {
  it('past MAX_ANSWER_BYTES are 502, the rest unread', async () => {
    proxy.mock.fail({ status: 200, raw: JSON.stringify({ choices: [{ message: { content: 'x'.repeat(200_000) } }] }) })
    const res = await fetch(`${proxy.gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', messages: [] }) })
    expect(res.status).toBe(502)
    expect((await res.json()).error.message).toBe('Acme answered with more than 100000 bytes (MAX_ANSWER_BYTES)')
  })

  it('usage figures that are not counts are left out and counted as invalid', async () => {
    const before = await stats()
    for (const usage of [{ completion_tokens: { a: 1 }, prompt_tokens: 3 }, { prompt_tokens: -1e9, completion_tokens: 2 }, { prompt_tokens: 1.5, completion_tokens: '7' }]) {
      proxy.mock.fail({ status: 200, raw: JSON.stringify({ id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage }) })
      expect((await proxy.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })).choices[0]!.message.content).toBe('ok')
    }
    const after = await stats()
    expect(after.invalid_usage_by_model.chat - (before.invalid_usage_by_model.chat ?? 0)).toBe(3)
    expect(after.tokens_by_model.chat.prompt - (before.tokens_by_model.chat?.prompt ?? 0)).toBe(3)
    expect(after.tokens_by_model.chat.completion - (before.tokens_by_model.chat?.completion ?? 0)).toBe(2)
    expect(Number.isFinite(after.cost_by_model.chat)).toBe(true)
    expect(await (await fetch(`${proxy.gw.url}/metrics`)).text()).not.toMatch(/NaN/)
  })
})

describe('model ids only a pattern matches', () => {
  let mock: Awaited<ReturnType<typeof mockServer>>
  beforeAll(async () => {
    mock = await mockServer({})
  })
  afterAll(() => mock.close())

  it('are counted under their pattern: 200 invented ids add one label, not 200', async () => {
    const catalog = compileOk(catalogYaml({ provider: { base_url: `${mock.url}/v1` }, patterns: [{ match: '^o9-x\\d+$', description: 'Invented ids.', provider: 'test', kind: 'chat', apis: ['chat'] }] }))
    const { app } = createApp({ catalog, env: { TEST_API_KEY: 'sk-test-0123456789' }, log: () => {} })
    const client = new OpenAI({ baseURL: 'http://gateway.test/v1', apiKey: 'unused', fetch: (url, init) => Promise.resolve(app.fetch(new Request(url, init))), maxRetries: 0 })
    for (let i = 0; i < 200; i++) await client.chat.completions.create({ model: `o9-x${i}`, messages: [{ role: 'user', content: 'hi' }] })
    const stats = await (await app.fetch(new Request('http://gateway.test/api/stats'))).json()
    expect(stats.requests_by_model).toEqual({ 'pattern:^o9-x\\d+$': 200 })
    const metrics = await (await app.fetch(new Request('http://gateway.test/metrics'))).text()
    expect(metrics.split('\n').filter((l) => l.startsWith('gateway_model_requests_total'))).toEqual(['gateway_model_requests_total{model="pattern:^o9-x\\\\d+$"} 200'])
  })
})
