import { describe, expect, it } from 'vitest'
import { useProxy } from '../_setup.ts'

// Structured outputs: `response_format` json_schema on an OpenAI model (as sent), a local model
// (as sent), and Claude (a forced tool whose input schema is the requested one).
const ctx = useProxy()
const person = { name: 'person', strict: true, schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 18 }, tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } } }, required: ['name', 'age', 'tags'], additionalProperties: false } }

describe('structured outputs', () => {
  it.each(['chat', 'qwen-local', 'claude'])('%s: chat.completions.parse() gives the parsed object', async (model) => {
    const res = await ctx.client.chat.completions.parse({ model, messages: [{ role: 'user', content: 'Ada Lovelace' }], response_format: { type: 'json_schema', json_schema: person } })
    expect(res.choices[0]!.message.parsed).toEqual({ name: 'Ada Lovelace', age: 18, tags: ['a'] })
    expect(res.choices[0]!.finish_reason).toBe('stop')
  })

  it('sends Claude the schema as a tool it must call, and nothing is dropped', async () => {
    const res = await ctx.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: person } }).withResponse()
    expect(res.response.headers.get('x-gateway-dropped-params')).toBeNull()
    expect(ctx.mock.seen.at(-1)!.body).toMatchObject({ tools: [{ name: 'person', input_schema: person.schema }], tool_choice: { type: 'tool', name: 'person' } })
  })

  it('streams Claude\'s structured answer as content deltas', async () => {
    let text = ''
    for await (const chunk of await ctx.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Grace Hopper' }], response_format: { type: 'json_schema', json_schema: person }, stream: true })) {
      expect(chunk.choices[0]?.delta.tool_calls).toBeUndefined()
      text += chunk.choices[0]?.delta.content ?? ''
    }
    expect(JSON.parse(text)).toEqual({ name: 'Grace Hopper', age: 18, tags: ['a'] })
  })

  it('maps json_object too, and text.format on the Responses API', async () => {
    const obj = await ctx.client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'json please' }], response_format: { type: 'json_object' } })
    expect(typeof JSON.parse(obj.choices[0]!.message.content!)).toBe('object')
    const r = await ctx.client.responses.create({ model: 'claude', input: 'Alan Turing', text: { format: { type: 'json_schema', ...person } } })
    expect(JSON.parse(r.output_text)).toEqual({ name: 'Alan Turing', age: 18, tags: ['a'] })
  })
})
