// Random JSON bodies and headers on every POST route: never a 500, and a request the gateway
// refuses never reaches the upstream (an error that did reach it is the upstream's, passed on).
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { ACME_KEY, ADMIN, CLAUDE_KEY, mockServer, NOW, proxyCatalog } from '../_setup.ts'
import { params } from './_fuzz.ts'

// Every POST route, with a body it accepts: the fuzzer starts there and breaks it.
const ROUTES: Record<string, Record<string, unknown>> = {
  '/v1/chat/completions': { model: 'chat', messages: [{ role: 'user', content: 'hi there' }], max_tokens: 5 },
  '/v1/completions': { model: 'chat', prompt: 'hi there' },
  '/v1/responses': { model: 'think', input: 'hi there', reasoning: { effort: 'low' } },
  '/v1/embeddings': { model: 'embed', input: ['hi', 'there'] },
  '/v1/moderations': { model: 'mod', input: 'hi there' },
  '/v1/rerank': { model: 'rerank', query: 'hi', documents: ['hi there', 'bye'] },
  '/api/chat': { model: 'claude', messages: [{ role: 'user', content: 'hi there' }], stream: false },
  '/api/generate': { model: 'chat', prompt: 'hi there', options: { num_predict: 5 } },
  '/api/embed': { model: 'embed', input: 'hi there' },
  '/api/show': { model: 'chat' },
  '/api/config': { expose_experimental_models: true },
}
const MODELS = ['chat', 'think', 'pro', 'claude', 'embed', 'rerank', 'mod', 'instruct', 'orphan', 'old', 'soon', 'chat-latest', 'nope', 'chat:latest', '', 'a\r\nb', '../admin', 'x'.repeat(300)]

// Values that break assumptions: wrong types, huge and odd numbers, nesting, prototype keys.
const oddValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, -1, 0, 1e308, -0, 2 ** 53 + 1, '', 'null', [], {}, { __proto__: null }, '\u0000', 'x'.repeat(5000)))
const key = fc.oneof(fc.constantFrom('model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'max_output_tokens', 'temperature', 'reasoning_effort', 'reasoning', 'tools', 'tool_choice', 'input', 'prompt', 'options', 'images', 'format', 'api_base', 'base_url', 'api_key', '__proto__', 'constructor', 'n'), fc.string({ maxLength: 10 }))
const edit = fc.oneof(
  fc.record({ set: key, value: oddValue }),
  fc.record({ set: fc.constant('model'), value: fc.constantFrom(...MODELS) }),
  fc.record({ remove: key }),
  fc.record({ set: fc.constant('messages'), value: fc.array(fc.record({ role: fc.constantFrom('user', 'system', 'assistant', 'tool', 'developer', 'x'), content: oddValue }, { requiredKeys: [] }), { maxLength: 3 }) }),
)
const body = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...Object.keys(ROUTES)), fc.array(edit, { maxLength: 4 }), fc.boolean()).map(([route, edits, stream]) => ({ route, text: JSON.stringify(_apply({ ...ROUTES[route], ...(stream ? { stream: true } : {}) }, edits)) })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...Object.keys(ROUTES)), fc.oneof(fc.json(), fc.string({ maxLength: 40 }), fc.constantFrom('', '{', '[]', 'null', '{"model":', '\uFEFF{}', '{"model":"chat","model":"nope"}'))).map(([route, text]) => ({ route, text })) },
)
const HEADER_NAMES = ['content-type', 'accept', 'authorization', 'x-request-id', 'origin', 'x-forwarded-for', 'x-forwarded-host', 'forwarded', 'content-encoding', 'accept-encoding', 'anthropic-version', 'openai-organization', 'x-api-key', 'cookie']
const headers = fc.dictionary(
  fc.oneof(fc.constantFrom(...HEADER_NAMES), fc.stringMatching(/^x-[a-z0-9-]{1,12}$/)),
  fc.oneof(fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'gzip', `Bearer ${ADMIN}`, 'Bearer ', '*/*', 'text/event-stream', '127.0.0.1, 10.0.0.1'), fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((s) => s.trim())),
  { maxKeys: 5 },
)

// The cloud providers' mock checks their keys; the keyless local provider has its own.
let mock: Awaited<ReturnType<typeof mockServer>>
let local: Awaited<ReturnType<typeof mockServer>>
let app: ReturnType<typeof createApp>['app']
beforeAll(async () => {
  mock = await mockServer()
  local = await mockServer({})
  app = createApp({
    catalog: proxyCatalog,
    env: { ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY, ACME_BASE_URL: `${mock.url}/v1`, CLAUDE_BASE_URL: mock.url, LOCAL_BASE_URL: `${local.url}/v1`, ADMIN_TOKEN: ADMIN, UPSTREAM_TIMEOUT_MS: '10000' },
    now: () => NOW,
    log: () => {},
  }).app
})
afterAll(async () => {
  await mock.close()
  await local.close()
})

describe('random requests on every POST route', () => {
  it('never answer 500, and what the gateway refuses never reaches the upstream', async () => {
    await fc.assert(
      fc.asyncProperty(body, headers, async ({ route, text }, extra) => {
        mock.seen.length = 0
        local.seen.length = 0
        const res = await app.fetch(new Request(`http://gateway.test${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...extra }, body: text }))
        const answer = await res.text()
        const what = `${route} ${text.slice(0, 300)} ${JSON.stringify(extra)} -> ${res.status} ${answer.slice(0, 300)}`
        expect(res.status, what).not.toBe(500)
        expect(res.status, what).toBeLessThan(600)
        if (res.status < 400) return
        const json = JSON.parse(answer) as { error: string | { message: string } }
        const message = typeof json.error === 'string' ? json.error : json.error.message
        expect(message.length, what).toBeGreaterThan(0)
        // An error from a request that reached the upstream is the upstream's own, named as such.
        if (mock.seen.length + local.seen.length) expect(message, what).toMatch(/^(Acme|Claude|Local): /)
        // Refused by the gateway itself: the client's fault (4xx), or a provider without its key (503).
        else if (res.status >= 500) expect(`${res.status} ${message}`, what).toMatch(/^503 The provider '\w+' of the model '\w+' is not configured: set \w+\.$/)
      }),
      params(400),
    )
  }, 600_000)
})

function _apply(base: Record<string, unknown>, edits: readonly ({ set: string; value: unknown } | { remove: string })[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const e of edits) {
    if ('remove' in e) delete out[e.remove]
    else Object.defineProperty(out, e.set, { value: e.value, enumerable: true, writable: true, configurable: true })
  }
  return out
}
