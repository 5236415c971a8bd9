// Bodies of the wrong shape are refused with 400 saying what is wrong, before any upstream
// call; the upstream's own answers of the wrong shape are 502. (Found by the fuzz tests.)
import { describe, expect, it } from 'vitest'
import { useProxy } from '../_setup.ts'

const proxy = useProxy()
const post = async (path: string, body: unknown) => {
  const res = await fetch(`${proxy.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const json = await res.json()
  return { status: res.status, message: typeof json.error === 'string' ? json.error : json.error?.message, json }
}
const hi = [{ role: 'user', content: 'hi' }]

describe('request bodies of the wrong shape', () => {
  it.each([
    ['/v1/chat/completions', { model: 'chat', messages: hi, stream: [] }, 'stream must be true or false (got []).'],
    ['/v1/chat/completions', { model: 'chat', messages: hi, stream: 'true' }, 'stream must be true or false (got "true").'],
    ['/v1/chat/completions', { model: 'chat', messages: hi, stream: true, stream_options: 'usage' }, 'stream_options must be an object (got "usage").'],
    ['/v1/chat/completions', { model: 'claude', messages: [null] }, 'messages[0] must be an object (got null)'],
    ['/v1/chat/completions', { model: 'claude', messages: 'hi' }, 'messages must be a list'],
    ['/v1/chat/completions', { model: 'claude', messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, 7] }] }, 'messages[0].content[1] must be an object (got 7)'],
    ['/v1/chat/completions', { model: 'claude', messages: hi, tools: [{ type: 'function', function: { name: 'f' } }, 'g'] }, 'tools[1] must be an object (got "g")'],
    ['/api/chat', { model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: 'false' }, 'stream must be true or false (got "false")'],
    ['/api/chat', { model: 'chat', messages: [7] }, 'messages[0] must be an object with a role and content'],
    ['/api/chat', { model: 'chat', messages: [{ role: 'user', content: 'hi', images: [{ data: 'x' }] }] }, 'messages[0].images must be a list of base64-encoded images'],
  ])('%s %j: 400 with what is wrong, and nothing sent upstream', async (path, body, message) => {
    const res = await post(path, body)
    expect(res.status).toBe(400)
    expect(res.message).toBe(message)
    expect(proxy.mock.seen).toHaveLength(0)
  })

  it.each([
    ['/v1/chat/completions', { model: 'claude', messages: [{ role: 'assistant', content: 'a', tool_calls: null }, { role: 'user', content: 'hi' }] }],
    ['/api/chat', { model: 'chat', stream: false, messages: [{ role: 'user', content: 'hi', images: null }] }],
  ])('null where a list may be is no list at all (clients replay such messages): %s', async (path, body) => {
    const res = await post(path, body)
    expect(res.status).toBe(200)
    expect(JSON.stringify(res.json)).toContain('You said: hi')
  })
})

describe('upstream answers of the wrong shape', () => {
  it.each(['chat', 'claude'])('a stream request answered with JSON (%s): 502 upstream_invalid naming what came', async (model) => {
    proxy.mock.fail({ status: 200, raw: '{"choices":[]}' })
    const res = await post('/v1/chat/completions', { model, stream: true, messages: hi })
    expect(res.status).toBe(502)
    expect(res.message).toBe(`${model === 'chat' ? 'Acme' : 'Claude'} answered a stream request with 'application/json', not an event stream`)
    expect(res.json.error.code).toBe('upstream_invalid')
  })
})
