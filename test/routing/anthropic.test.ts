import { describe, expect, it } from 'vitest'
import { toChunks, toMessagesRequest } from '../../src/protocols/anthropic.ts'
import type { Upstream } from '../../src/transport/client.ts'
import { ClientSignal } from '../../src/client-signal.ts'
import { message } from '../../src/mock/anthropic.ts'
import { CLAUDE_KEY, proxyCatalog, proxyServer, useProxy } from '../_setup.ts'

const proxy = useProxy()

const tools = ['lookup', 'weather'].map((name) => ({ type: 'function' as const, function: { name, description: `the ${name} tool`, parameters: { type: 'object', properties: { query: { type: 'string' } } } } }))

describe('chat completions on an anthropic-protocol model', () => {
  it('map system messages, max_tokens and stop, with Anthropic\'s headers', async () => {
    const res = await proxy.client.chat.completions.create({ model: 'claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'developer', content: 'Be kind.' }, { role: 'user', content: 'hello there' }], stop: 'never' })
    expect(res.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'You said: hello there' }, finish_reason: 'stop' })
    expect(res.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 })
    expect(res.created).toBe(Date.UTC(2026, 10, 21, 12) / 1000)
    const seen = proxy.mock.seen.at(-1)!
    expect(seen.path).toBe('/v1/messages')
    expect(seen.headers).toMatchObject({ 'x-api-key': CLAUDE_KEY, 'anthropic-version': '2023-06-01' })
    expect(seen.headers).not.toHaveProperty('authorization')
    expect(seen.body).toEqual({ model: 'claude', system: 'Be brief.\n\nBe kind.', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there' }] }], max_tokens: 64000, stop_sequences: ['never'] })
  })

  it.each([
    ['max_tokens', { max_tokens: 2 }, 'length', 'You said:'],
    ['stop_sequence', { stop: ['two'] }, 'stop', 'You said: one'],
    ['end_turn', {}, 'stop', 'You said: one two'],
  ])('map the stop reason %s', async (_, extra, finish, content) => {
    const res = await proxy.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'one two' }], ...extra })
    expect(res.choices[0]).toMatchObject({ finish_reason: finish, message: { content } })
  })

  it('map tools, tool calls and tool results both ways', async () => {
    const res = await proxy.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'use weather then lookup' }], tools, tool_choice: 'required', parallel_tool_calls: false })
    expect(res.choices[0]!.finish_reason).toBe('tool_calls')
    expect(res.choices[0]!.message.tool_calls).toEqual([
      { id: 'toolu_0_weather', type: 'function', function: { name: 'weather', arguments: '{"query":"use weather then lookup"}' } },
      { id: 'toolu_1_lookup', type: 'function', function: { name: 'lookup', arguments: '{"query":"use weather then lookup"}' } },
    ])
    expect(proxy.mock.seen.at(-1)!.body).toMatchObject({
      tools: [{ name: 'lookup', description: 'the lookup tool', input_schema: tools[0]!.function.parameters }, { name: 'weather', description: 'the weather tool', input_schema: tools[1]!.function.parameters }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    })
    await proxy.client.chat.completions.create({
      model: 'claude',
      tools,
      messages: [
        { role: 'user', content: 'use weather' },
        res.choices[0]!.message,
        { role: 'tool', tool_call_id: 'toolu_0_weather', content: 'sunny' },
        { role: 'tool', tool_call_id: 'toolu_1_lookup', content: 'found' },
      ],
    })
    expect((proxy.mock.seen.at(-1)!.body as { messages: unknown }).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'use weather' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_0_weather', name: 'weather', input: { query: 'use weather then lookup' } }, { type: 'tool_use', id: 'toolu_1_lookup', name: 'lookup', input: { query: 'use weather then lookup' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0_weather', content: 'sunny' }, { type: 'tool_result', tool_use_id: 'toolu_1_lookup', content: 'found' }] },
    ])
  })

  it('map images, by URL and as base64', async () => {
    await proxy.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }] })
    expect((proxy.mock.seen.at(-1)!.body as { messages: { content: unknown }[] }).messages[0]!.content).toEqual([
      { type: 'text', text: 'what is this' },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    ])
  })

  it('stream chunks: role first, parallel tool calls indexed, finish reason, usage when asked', async () => {
    const stream = await proxy.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'weather and lookup' }], tools, stream: true, stream_options: { include_usage: true } })
    const chunks = []
    for await (const c of stream) chunks.push(c)
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' })
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    expect(calls.filter((c) => c.id).map((c) => [c.index, c.id, c.function?.name])).toEqual([[0, 'toolu_0_weather', 'weather'], [1, 'toolu_1_lookup', 'lookup']])
    expect(calls.filter((c) => c.index === 1).map((c) => c.function?.arguments).join('')).toBe('{"query":"weather and lookup"}')
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('tool_calls')
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 6, total_tokens: 9 } })
  })

  it('count a stream\'s tokens even when the client did not ask for usage', async () => {
    const before = (await (await fetch(`${proxy.gw.url}/api/stats`)).json()).tokens_by_model.claude ?? { prompt: 0, completion: 0 }
    const stream = await proxy.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'a b c' }], stream: true })
    const chunks = []
    for await (const c of stream) chunks.push(c)
    expect(chunks.some((c) => c.usage)).toBe(false)
    const after = (await (await fetch(`${proxy.gw.url}/api/stats`)).json()).tokens_by_model.claude
    expect(after).toEqual({ prompt: before.prompt + 3, completion: before.completion + 5 })
  })

  it('name the parameters the Messages API cannot take, or refuse them with UNSUPPORTED_PARAMS=reject', async () => {
    const { response } = await proxy.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }], n: 2, seed: 7 }).withResponse()
    expect(response.headers.get('x-gateway-dropped-params')).toBe('n, seed')
    const strict = await proxyServer(proxy.mock, { UNSUPPORTED_PARAMS: 'reject' })
    const res = await fetch(`${strict.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude', messages: [], logprobs: true }) })
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatchObject({ message: "Unsupported parameter: logprobs cannot be sent to the Anthropic model 'claude'.", code: 'unsupported_parameter', param: 'logprobs' })
    await strict.close()
  })

  it('refuses other APIs with a clear 400', async () => {
    const res = await fetch(`${proxy.gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"claude","prompt":"x"}' })
    expect(res.status).toBe(400)
    expect((await res.json()).error.message).toBe("The model 'claude' does not support /v1/completions: use /v1/chat/completions.")
  })

  it('passes an upstream error on with Anthropic\'s message', async () => {
    proxy.mock.fail({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } })
    const res = await fetch(`${proxy.gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"claude","messages":[{"role":"user","content":"x"}]}' })
    expect(res.status).toBe(529)
    expect((await res.json()).error.message).toBe('Claude: Overloaded')
  })
})

describe('the stream translator', () => {
  const up = { provider: proxyCatalog.providers.claude! } as Upstream
  const recorded = new TextEncoder().encode(message({ model: 'claude', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'caf\u00e9 \ud83d\ude42 weather' }], tools: [{ name: 'weather' }] }).chunks.join(''))
  const translate = async (chunks: Uint8Array[]) => {
    async function* body() {
      for (const c of chunks) yield c
    }
    const it = Object.assign(body(), { destroy: () => {} })
    const out: string[] = []
    for await (const batch of toChunks(it, up, 'claude', 1)) out.push(...batch.map((e) => e.data))
    return out
  }

  it('gives the same chunks for a recorded stream split at every byte offset', async () => {
    const whole = await translate([recorded])
    expect(whole.at(-1)).toBe('[DONE]')
    expect(whole).toHaveLength(7)
    for (let i = 1; i < recorded.length; i++) expect(await translate([recorded.slice(0, i), recorded.slice(i)])).toEqual(whole)
  })

  it('reports an error event, an event that is not JSON and a stream cut short, by what went wrong', async () => {
    const run = async (text: string) => translate([new TextEncoder().encode(text)]).catch((e: unknown) => e)
    const start = 'event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":1}}}\n\n'
    expect(await run(`${start}event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n`)).toMatchObject({ status: 502, message: 'Claude: Overloaded' })
    expect(await run(`${start}data: {not json\n\n`)).toMatchObject({ status: 502, message: 'Claude sent an event that is not JSON' })
    expect(await run(start)).toMatchObject({ status: 502, message: 'Claude ended the stream before message_stop' })
  })

  it('maps a request without tools or system to the minimum Anthropic needs', () => {
    const model = proxyCatalog.models.claude!
    expect(toMessagesRequest({ model, upstreamId: model.upstream_id, api: 'chat', body: { model: 'claude', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 10 }, stream: false, includeUsage: false, signal: new ClientSignal(), unsupported: 'drop' })).toEqual({ model: 'claude', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], max_tokens: 10 })
  })
})
