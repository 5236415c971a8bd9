import { describe, expect, it } from 'vitest'
import { createMockUpstream } from '../src/mock/app.ts'

const { app } = createMockUpstream({ keys: { openai: 'k', anthropic: 'a' } })
const post = (path: string, body: unknown, headers: Record<string, string> = { authorization: 'Bearer k' }) =>
  app.fetch(new Request(`http://mock${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }))

describe('the mock upstream', () => {
  it('answers the same request with the same bytes, and counts usage from the text', async () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'same words here' }], stream: true, stream_options: { include_usage: true } }
    const [a, b] = await Promise.all([post('/v1/chat/completions', body), post('/v1/chat/completions', body)])
    const text = await a.text()
    expect(await b.text()).toBe(text)
    expect(text).toContain('"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}')
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
  })

  it('checks keys as the real APIs do', async () => {
    expect((await post('/v1/chat/completions', { model: 'm', messages: [] }, { authorization: 'Bearer wrong' })).status).toBe(401)
    const anthropic = await post('/v1/messages', { model: 'm', messages: [], max_tokens: 5 }, { 'x-api-key': 'a' })
    expect(anthropic.status).toBe(400)
    expect(await anthropic.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } })
    const noMax = await post('/v1/messages', { model: 'm', messages: [] }, { 'x-api-key': 'a', 'anthropic-version': '2023-06-01' })
    expect((await noMax.json()).error.message).toBe('max_tokens: Field required')
  })
})
