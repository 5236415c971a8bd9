// What a request body may hold before the gateway refuses it with 400 naming the field: JSON
// nested deep enough to overflow a stack (on any POST route, in any field), list items that are
// not objects. None of it reaches the upstream.
import { describe, expect, it } from 'vitest'
import { ADMIN, useProxy } from '../_setup.ts'

const proxy = useProxy({ ADMIN_TOKEN: ADMIN })
const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`

async function post(path: string, body: string) {
  const res = await fetch(`${proxy.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body })
  return { status: res.status, body: await res.json() }
}

describe('JSON nested 25,000 levels deep', () => {
  const cases: [string, string, string][] = [
    ['/v1/chat/completions', 'stream', `{"model":"chat","messages":[],"stream":${deep(25_000)}}`],
    ['/v1/chat/completions', 'max_tokens', `{"model":"chat","messages":[],"max_tokens":${deep(25_000)}}`],
    ['/v1/chat/completions', 'stream_options', `{"model":"chat","messages":[],"stream":true,"stream_options":{"a":${deep(25_000)}}}`],
    ['/v1/chat/completions', 'temperature', `{"model":"chat","messages":[],"temperature":${deep(25_000)}}`],
    ['/v1/chat/completions', 'messages', `{"model":"claude","messages":[{"role":"user","content":${deep(25_000)}}]}`],
    ['/v1/responses', 'input', `{"model":"think","input":${deep(25_000)}}`],
    ['/api/chat', 'options', `{"model":"chat","messages":[],"options":{"temperature":${deep(25_000)}}}`],
    ['/api/generate', 'format', `{"model":"chat","prompt":"hi","format":${deep(25_000)}}`],
    ['/api/config', 'expose_experimental_models', `{"expose_experimental_models":${deep(25_000)}}`],
  ]
  it.each(cases)('%s: 400 naming %s, no upstream call', async (path, field, body) => {
    const { status, body: answer } = await post(path, body)
    expect(status).toBe(400)
    const message = path.startsWith('/api/') ? answer.error : answer.error.message
    expect(message).toBe(`${field} nests deeper than 100 levels`)
    expect(proxy.mock.seen).toEqual([])
  })

  it('100 levels are still a body the gateway reads', async () => {
    const { status } = await post('/v1/chat/completions', `{"model":"chat","messages":[{"role":"user","content":"hi"}],"metadata":{"a":${deep(98)}}}`)
    expect(status).toBe(200)
  })
})

describe('Ollama list items that are not objects', () => {
  it.each([
    ['[null]', 'messages[0].tool_calls[0] must be an object with a function (got null)'],
    ['[5]', 'messages[0].tool_calls[0] must be an object with a function (got 5)'],
    ['[{"function":"f"}]', 'messages[0].tool_calls[0].function must be an object with a name and arguments'],
  ])('/api/chat with tool_calls %s: 400', async (calls, message) => {
    const { status, body } = await post('/api/chat', `{"model":"chat","stream":false,"messages":[{"role":"assistant","content":"","tool_calls":${calls}}]}`)
    expect(status).toBe(400)
    expect(body).toEqual({ error: message })
    expect(proxy.mock.seen).toEqual([])
  })
})
