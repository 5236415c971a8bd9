import { Ollama } from 'ollama'
import { beforeAll, describe, expect, it } from 'vitest'
import { useProxy } from '../_setup.ts'

const proxy = useProxy()
let ollama: Ollama
beforeAll(() => {
  ollama = new Ollama({ host: proxy.gw.url })
})

describe('Ollama chat, generate and embed through the official ollama client', () => {
  it('chats without streaming, with counts from the upstream usage and a measured duration', async () => {
    const res = await ollama.chat({ model: 'chat:latest', messages: [{ role: 'user', content: 'hello there' }], stream: false, options: { num_predict: 50, temperature: 0.3 } })
    expect(res).toMatchObject({ model: 'chat:latest', message: { role: 'assistant', content: 'You said: hello there' }, done: true, done_reason: 'stop', prompt_eval_count: 2, eval_count: 4 })
    expect(res.total_duration).toBeGreaterThan(0)
    expect(proxy.mock.seen.at(-1)!.body).toMatchObject({ model: 'upstream-chat', max_tokens: 50, temperature: 0.3, stream: false })
  })

  it('streams NDJSON by default: content lines, then a done line with counts and durations', async () => {
    const parts = []
    for await (const part of await ollama.chat({ model: 'claude', messages: [{ role: 'user', content: 'one two' }], stream: true })) parts.push(part)
    expect(parts.filter((p) => !p.done).map((p) => p.message.content).join('')).toBe('You said: one two')
    const done = parts.at(-1)!
    expect(done).toMatchObject({ done: true, done_reason: 'stop', prompt_eval_count: 2, eval_count: 4 })
    expect(done.total_duration).toBeGreaterThanOrEqual(done.eval_duration)
    expect(done.prompt_eval_duration).toBeGreaterThan(0)
  })

  it('reports a cut answer as done_reason length', async () => {
    const res = await ollama.chat({ model: 'chat', messages: [{ role: 'user', content: 'a b c d' }], stream: false, options: { num_predict: 2 } })
    expect(res).toMatchObject({ message: { content: 'You said:' }, done_reason: 'length', eval_count: 2 })
  })

  it('maps tool calls both ways: arguments are objects in Ollama, JSON strings upstream', async () => {
    const tools = [{ type: 'function', function: { name: 'weather', description: 'w', parameters: { type: 'object', properties: { query: { type: 'string' } } } } }]
    const res = await ollama.chat({ model: 'chat', messages: [{ role: 'user', content: 'weather please' }], tools, stream: false })
    expect(res.message.tool_calls).toEqual([{ function: { name: 'weather', arguments: { query: 'weather please' } } }])
    const streamed = []
    for await (const part of await ollama.chat({ model: 'claude', messages: [{ role: 'user', content: 'weather please' }], tools, stream: true })) streamed.push(part)
    expect(streamed.flatMap((p) => p.message.tool_calls ?? [])).toEqual([{ function: { name: 'weather', arguments: { query: 'weather please' } } }])
    await ollama.chat({ model: 'chat', tools, stream: false, messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: '', tool_calls: res.message.tool_calls }, { role: 'tool', content: 'sunny' }] })
    expect((proxy.mock.seen.at(-1)!.body as { messages: unknown[] }).messages.slice(1)).toEqual([
      { role: 'assistant', content: '', tool_calls: [{ id: 'call_1_0', type: 'function', function: { name: 'weather', arguments: '{"query":"weather please"}' } }] },
      { role: 'tool', content: 'sunny', tool_call_id: 'call_1_0' },
    ])
  })

  it('sends images as data URLs', async () => {
    await ollama.chat({ model: 'claude', stream: false, messages: [{ role: 'user', content: 'what is it', images: ['iVBORw0KGgo='] }] })
    expect((proxy.mock.seen.at(-1)!.body as { messages: { content: unknown }[] }).messages[0]!.content).toEqual([
      { type: 'text', text: 'what is it' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    ])
  })

  it('generates, streamed and not, with a system prompt', async () => {
    const res = await ollama.generate({ model: 'chat', prompt: 'hi you', system: 'be brief', stream: false })
    expect(res).toMatchObject({ response: 'You said: hi you', done: true, prompt_eval_count: 4, eval_count: 4 })
    let text = ''
    for await (const part of await ollama.generate({ model: 'chat', prompt: 'hi you', stream: true })) text += part.response
    expect(text).toBe('You said: hi you')
    expect(await ollama.generate({ model: 'chat', prompt: '' })).toMatchObject({ response: '', done: true, done_reason: 'load' })
  })

  it('embeds', async () => {
    const res = await ollama.embed({ model: 'embed', input: ['a b', 'c'] })
    expect(res.embeddings).toHaveLength(2)
    expect(res.embeddings[0]).toHaveLength(8)
    expect(res.prompt_eval_count).toBe(3)
  })

  it('answers errors in Ollama\'s format', async () => {
    const error = await ollama.chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }], stream: false }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status_code: 404, error: "The model 'nope' does not exist or you do not have access to it." })
    proxy.mock.fail({ status: 429, headers: { 'retry-after': '3' } })
    const limited = await fetch(`${proxy.gw.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'chat', messages: [], stream: false }) })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('3')
    expect(await limited.json()).toEqual({ error: 'Acme: mock fault: status 429' })
  })
})

describe('the Ollama surface agrees with itself', () => {
  it('/api/show says completion only for what /api/chat will take, and /api/chat refuses the rest in Ollama\'s words', async () => {
    expect((await ollama.show({ model: 'chat' })).capabilities).toContain('completion')
    const pro = await ollama.show({ model: 'pro' }) // the Responses API only
    expect(pro.capabilities).not.toContain('completion')
    const error = await ollama.chat({ model: 'pro', messages: [{ role: 'user', content: 'x' }], stream: false }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status_code: 400, error: '"pro" does not support chat' })
    const embed = await ollama.embed({ model: 'chat', input: 'x' }).catch((e: unknown) => e)
    expect(embed).toMatchObject({ status_code: 400, error: '"chat" does not support embed' })
    expect(proxy.mock.seen).toHaveLength(0)
  })

  it('serves the legacy /api/embeddings (prompt in, embedding out)', async () => {
    const res = await ollama.embeddings({ model: 'embed', prompt: 'legacy client' })
    expect(res.embedding).toHaveLength(8)
    expect(proxy.local.seen.at(-1)!.body).toMatchObject({ input: 'legacy client' })
    const missing = await fetch(`${proxy.gw.url}/api/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'embed' }) })
    expect({ status: missing.status, body: await missing.json() }).toEqual({ status: 400, body: { error: 'prompt is required (a string)' } })
  })
})
