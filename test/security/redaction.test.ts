// Provider keys never reach a client, wherever an upstream puts them in an answer that is not an
// error: the content of a 200, an Anthropic stream's text, tool use and error events, an OpenAI
// stream's event names, JSON-escaped spellings; through /v1 and Ollama's /api/chat alike.
import { describe, expect, it } from 'vitest'
import { Redactor } from '../../src/redact.ts'
import { ACME_KEY, CLAUDE_KEY, useProxy } from '../_setup.ts'

const proxy = useProxy()
const SSE = { 'content-type': 'text/event-stream' }
const anthropicEvent = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`
// JSON may write any character as \uXXXX: the same key, not found by a plain search.
const escaped = (key: string) => [...key].map((c, i) => (i % 2 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('')

async function call(path: '/v1/chat/completions' | '/api/chat', model: string, stream: boolean) {
  const res = await fetch(`${proxy.gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }) })
  return { status: res.status, text: await res.text(), headers: [...res.headers].join('\n') }
}

// An Anthropic stream whose text, tool use (name and input) and final error all carry the key.
const anthropicStream = (key: string) => [
  anthropicEvent('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], usage: { input_tokens: 1, output_tokens: 1 } } }),
  anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `your key is ${key}` } }),
  anthropicEvent('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'tu_1', name: `lookup_${key}`, input: {} } }),
  anthropicEvent('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: `{"key":"${key}"}` } }),
  anthropicEvent('error', { error: { type: 'overloaded_error', message: `overloaded for key ${key}` } }),
].join('')

describe('provider keys in answers that are not errors', () => {
  for (const path of ['/v1/chat/completions', '/api/chat'] as const) {
    it(`are redacted from an Anthropic stream's text, tool use and error event (${path})`, async () => {
      proxy.mock.fail({ status: 200, raw: anthropicStream(CLAUDE_KEY), headers: SSE })
      const { status, text } = await call(path, 'claude', true)
      expect(status).toBe(200)
      expect(text).not.toContain(CLAUDE_KEY)
      expect(text).toContain('your key is [redacted]')
      expect(text).toContain('overloaded for key [redacted]')
      if (path === '/v1/chat/completions') expect(text).toContain('lookup_[redacted]')
    })

    it(`are redacted from a non-streamed 200 that echoes the key, OpenAI and Anthropic (${path})`, async () => {
      const completion = JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'upstream-chat', choices: [{ index: 0, message: { role: 'assistant', content: `the key is ${ACME_KEY}, also ESCAPED` }, finish_reason: 'stop' }] })
      proxy.mock.fail({ status: 200, raw: completion.replace('ESCAPED', escaped(ACME_KEY)) })
      const openai = await call(path, 'chat', false)
      expect(openai.status).toBe(200)
      expect(openai.text).toContain('the key is [redacted], also [redacted]')
      expect(openai.text).not.toContain(ACME_KEY)
      proxy.mock.fail({ status: 200, raw: JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: `the key is ${CLAUDE_KEY}` }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 4 } }) })
      const anthropic = await call(path, 'claude', false)
      expect(anthropic.status).toBe(200)
      expect(anthropic.text).toContain('the key is [redacted]')
      expect(anthropic.text).not.toContain(CLAUDE_KEY)
    })
  }

  it('are redacted from an OpenAI stream event name and from JSON-escaped spellings, in bytes passed through', async () => {
    const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'upstream-chat', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
    const raw = `event: ${ACME_KEY}\n${chunk('plain')}${chunk('x').replace('"x"', `"${escaped(ACME_KEY)}"`)}data: [DONE]\n\n`
    proxy.mock.fail({ status: 200, raw, headers: SSE })
    const { status, text } = await call('/v1/chat/completions', 'chat', true)
    expect(status).toBe(200)
    expect(text).toBe(`event: [redacted]\n${chunk('plain')}${chunk('[redacted]')}data: [DONE]\n\n`)
  })

  it('are redacted from the headers of an upstream error the client gets', async () => {
    proxy.mock.fail({ status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after': ACME_KEY } })
    const { status, headers } = await call('/v1/chat/completions', 'chat', false)
    expect(status).toBe(429)
    expect(headers).toContain('retry-after,[redacted]')
  })
})

describe('the redactor', () => {
  const redactor = new Redactor(['sk-short', 'sk-short-and-longer', undefined, ''])

  it('takes out each secret whole, the longer first, plain or JSON-escaped in either case of hex', () => {
    expect(redactor.text('a sk-short-and-longer b sk-short c')).toBe('a [redacted] b [redacted] c')
    expect(redactor.text('"\\u0073k-\\u0053hort"'.replace('\\u0053', 's'))).toBe('"[redacted]"')
    expect(redactor.text('"\\u0073\\u006B-short"')).toBe('"[redacted]"')
  })

  it('leaves text that only looks escaped (an escaped backslash before u) as it is, valid JSON', () => {
    const text = JSON.stringify({ content: '\\u0073k-short' }) // the text \u0073k-short, not the key
    expect(redactor.text(text)).toBe(text)
    expect(new Redactor(['key/with-slash']).text('"key\\/with-slash"')).toBe('"[redacted]"')
  })

  it('returns bytes without a secret as the very same object, and never changes them', () => {
    const clean = new TextEncoder().encode('data: {"a":"caf\u00e9 \\u00e9"}\n\n')
    expect(redactor.bytes(clean)).toBe(clean)
    expect(new TextDecoder().decode(redactor.bytes(new TextEncoder().encode('data: "sk-short"\n\n')))).toBe('data: "[redacted]"\n\n')
  })
})
