import { describe, expect, it } from 'vitest'
import { ResponseEvents } from '../../src/dialects/responses-translate.ts'
import { useProxy } from '../_setup.ts'

// /v1/responses for models that serve chat only: `claude` (Anthropic's Messages API) and
// `qwen-local` (an OpenAI-compatible local server), translated there and back; `think` natively.
const ctx = useProxy()
const weather = { type: 'function' as const, name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false }

describe('the Responses API for every chat model', () => {
  it.each(['claude', 'qwen-local', 'think'])('%s: create and the SDK\'s stream helper answer the text', async (model) => {
    const created = await ctx.client.responses.create({ model, input: 'hello there', instructions: 'Be brief.', max_output_tokens: 100 })
    expect(created).toMatchObject({ object: 'response', status: 'completed', model })
    expect(created.output_text).toBe('You said: hello there')
    expect(created.usage!.input_tokens).toBeGreaterThan(0)
    const deltas: string[] = []
    const stream = ctx.client.responses.stream({ model, input: [{ role: 'user', content: [{ type: 'input_text', text: 'stream to me' }] }] })
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta))
    const final = await stream.finalResponse()
    expect(final.output_text).toBe('You said: stream to me')
    expect(deltas.join('')).toBe('You said: stream to me')
  })

  it.each(['claude', 'qwen-local'])('%s: a function tool is called, and the conversation with its output carries on', async (model) => {
    const stream = ctx.client.responses.stream({ model, input: 'call get_weather for Paris', tools: [weather] })
    const final = await stream.finalResponse()
    const call = final.output.find((o) => o.type === 'function_call')
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' })
    expect(JSON.parse((call as { arguments: string }).arguments)).toEqual({ city: 'call get_weather for Paris' }) // built from the tool's schema
    const next = await ctx.client.responses.create({
      model,
      tools: [weather],
      input: [
        { role: 'user', content: 'call get_weather for Paris' },
        { type: 'function_call', call_id: (call as { call_id: string }).call_id, name: 'get_weather', arguments: (call as { arguments: string }).arguments },
        { type: 'function_call_output', call_id: (call as { call_id: string }).call_id, output: '{"temperature": 21}' },
        { role: 'user', content: 'so what is it like' },
      ],
    })
    expect(next.output_text).toMatch(/^You said: .*so what is it like$/) // Claude's mock reads the tool result in the same user turn
    // A conversation that ends in the tool's output is answered, not met with another call.
    const answered = await ctx.client.responses.create({ model, tools: [weather], input: [{ role: 'user', content: 'call get_weather for Paris' }, { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' }, { type: 'function_call_output', call_id: 'c1', output: 'sunny' }] })
    expect(answered.output.map((o) => o.type)).toEqual(['message'])
  })

  it.each(['claude', 'qwen-local'])('%s: parallel function calls stay apart, not streamed too', async (model) => {
    const lookup = { ...weather, name: 'lookup' }
    const r = await ctx.client.responses.create({ model, input: 'get_weather and lookup', tools: [weather, lookup] })
    expect(r.output.map((o) => (o as { name?: string }).name)).toEqual(['get_weather', 'lookup'])
  })

  it('sends Claude the Messages request the translation makes: system, tools, the output limit', async () => {
    await ctx.client.responses.create({ model: 'claude', input: 'x', instructions: 'sys', tools: [weather], max_output_tokens: 77 })
    expect(ctx.mock.seen.at(-1)).toMatchObject({ path: '/v1/messages', body: { model: 'claude', system: 'sys', max_tokens: 77, tools: [{ name: 'get_weather', input_schema: weather.parameters }] } })
  })

  it('refuses previous_response_id when translating, naming the model as the client sent it', async () => {
    await expect(ctx.client.responses.create({ model: 'claude', input: 'x', previous_response_id: 'resp_1' })).rejects.toMatchObject({ status: 400, code: 'unsupported_parameter', message: expect.stringContaining("the model 'claude' does not keep") })
  })

  it('names the model as sent when an API is not served', async () => {
    await expect(ctx.client.embeddings.create({ model: 'chat-latest', input: 'x' })).rejects.toMatchObject({ status: 400, code: 'unsupported_api', message: expect.stringContaining("The model 'chat-latest' does not support /v1/embeddings") })
  })

  it('names what it could not carry over', async () => {
    const res = await ctx.client.responses.create({ model: 'qwen-local', input: 'x', metadata: { a: 'b' }, tools: [{ type: 'web_search' }] }).withResponse()
    expect(res.response.headers.get('x-gateway-dropped-params')).toBe('metadata, tools (other than functions)')
  })
})

describe('the Responses event sequence', () => {
  it('keeps two interleaved tool calls apart: each its own output index, each done with all of its arguments', () => {
    const s = new ResponseEvents('chatcmpl-1', 'm', 0)
    s.call(0, 'c0', 'a', '{"q":')
    s.call(1, 'c1', 'b', '{"r":')
    s.call(0, undefined, undefined, '1}')
    s.call(1, undefined, undefined, '2}')
    s.finish('tool_calls', undefined)
    const events = s.take().split('\n\n').filter(Boolean).map((e) => JSON.parse(e.split('\ndata: ')[1]!) as Record<string, any>)
    expect(events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => [e.output_index, e.delta])).toEqual([[0, '{"q":'], [1, '{"r":'], [0, '1}'], [1, '2}']])
    expect(events.filter((e) => e.type === 'response.output_item.done').map((e) => [e.output_index, e.item.arguments])).toEqual([[0, '{"q":1}'], [1, '{"r":2}']])
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    expect(s.response().output.map((o: { name: string }) => o.name)).toEqual(['a', 'b'])
  })
})
