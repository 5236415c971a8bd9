import Anthropic from '@anthropic-ai/sdk'
import { beforeAll, describe, expect, it } from 'vitest'
import { ACME_KEY, CLAUDE_KEY, useProxy } from '../_setup.ts'

// The gateway on the proxy catalog: `claude` (an anthropic provider), `chat` (an OpenAI one) and
// `qwen-local` (a keyless local server) behind the mock upstreams.
const ctx = useProxy()
let client: Anthropic
beforeAll(() => {
  client = new Anthropic({ baseURL: ctx.gw.url, apiKey: 'client-key-not-forwarded', maxRetries: 0 })
})
const user = (text: string) => [{ role: 'user' as const, content: text }]
const messagesSeen = () => ctx.mock.seen.filter((s) => s.path === '/v1/messages')
const stats = async () => (await (await fetch(`${ctx.gw.url}/api/stats`)).json()) as Record<string, any>
const search = { name: 'search', description: 'Search the web', input_schema: { type: 'object' as const, properties: { query: { type: 'string' } }, required: ['query'] } }

// A request shaped like Claude Code's: system blocks with cache_control, beta headers, tools, a stream.
const claudeCode = (model: string) => ({
  model,
  max_tokens: 32000,
  stream: true as const,
  system: [
    { type: 'text' as const, text: "You are Claude Code, Anthropic's official CLI for Claude." },
    { type: 'text' as const, text: 'Project instructions: run the tests before you stop.', cache_control: { type: 'ephemeral' as const } },
  ],
  tools: [search, { name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object' as const, properties: { command: { type: 'string' } } } }],
  messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'use search to find the flaky test', cache_control: { type: 'ephemeral' as const } }] }],
  metadata: { user_id: 'user_abc_account__session_123' },
})
const BETAS = 'claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14'

describe('Claude models: passed through untranslated', () => {
  it('sends the request as the client sent it (the upstream id, the provider key, the client\'s version) and answers Anthropic\'s message', async () => {
    const msg = await client.messages.create({ model: 'claude', max_tokens: 100, messages: user('pass me through'), service_tier: 'auto' }, { headers: { 'anthropic-version': '2023-06-01' } })
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'You said: pass me through' }], stop_reason: 'end_turn' })
    const [seen] = messagesSeen()
    expect(seen!.body).toEqual({ model: 'claude', max_tokens: 100, messages: user('pass me through'), service_tier: 'auto' })
    expect(seen!.headers['x-api-key']).toBe(CLAUDE_KEY)
    expect(seen!.headers['anthropic-version']).toBe('2023-06-01')
    expect(seen!.headers).not.toHaveProperty('authorization')
    expect(JSON.stringify(seen!.headers)).not.toContain('client-key-not-forwarded')
  })

  it('streams Claude Code\'s request through: system blocks with cache_control, beta headers and tools unchanged, tool use assembled by the SDK', async () => {
    const stream = client.messages.stream(claudeCode('claude'), { headers: { 'anthropic-beta': BETAS } })
    const final = await stream.finalMessage()
    expect(final.content).toEqual([{ type: 'tool_use', id: 'toolu_0_search', name: 'search', input: { query: 'use search to find the flaky test' } }])
    expect(final.stop_reason).toBe('tool_use')
    const [seen] = messagesSeen()
    const { stream: _s, ...sent } = claudeCode('claude')
    expect(seen!.body).toEqual({ ...sent, stream: true })
    expect(seen!.headers['anthropic-beta']).toBe(BETAS)
    expect(final.usage).toMatchObject({ cache_read_input_tokens: expect.any(Number) })
    expect(final.usage.cache_read_input_tokens).toBeGreaterThan(0)
  })

  it('applies the catalog\'s rules first: max_tokens above the model\'s max output is a 400 in Anthropic\'s envelope', async () => {
    const error = await client.messages.create({ model: 'claude', max_tokens: 64001, messages: user('x'), stream: true }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Anthropic.BadRequestError)
    expect(error).toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('This model supports at most 64000 completion tokens') } } })
    expect(messagesSeen()).toHaveLength(0)
  })

  it('counts the tokens of the request and its cache reads, at the catalog\'s prices', async () => {
    const before = (await stats()).tokens_by_model.claude ?? { prompt: 0, completion: 0 }
    const final = await client.messages.stream(claudeCode('claude')).finalMessage()
    const after = (await stats()).tokens_by_model.claude
    const u = final.usage
    expect(after.prompt - before.prompt).toBe(u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0))
    expect(after.completion - before.completion).toBe(u.output_tokens)
  })

  it('ends a stream the upstream cut after three events with Anthropic\'s error event, which the SDK raises', async () => {
    ctx.mock.fail({ resetAfter: 3 })
    const stream = client.messages.stream({ model: 'claude', max_tokens: 100, messages: user('one two three four five') })
    await expect(stream.finalMessage()).rejects.toThrow(/could not be reached|the upstream stream failed/)
  })
})

describe('an error event inside a passed-through stream', () => {
  it('reaches the client as Anthropic sent it (its type kept), after the events before it, and counts the stream as cut', async () => {
    const before = (await stats()).truncated_by_model?.claude ?? 0
    const overloaded = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    ctx.mock.fail({ inject: { after: 4, text: overloaded } })
    const res = await fetch(`${ctx.gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify({ model: 'claude', max_tokens: 50, stream: true, messages: user('one two three') }) })
    const text = await res.text()
    expect(text).toContain('"type":"content_block_delta"')
    expect(text.endsWith(overloaded)).toBe(true)
    expect(text.match(/event: error/g)).toHaveLength(1)
    expect((await stats()).truncated_by_model.claude).toBe(before + 1)
  })
})

describe('other models: translated to chat completions and back', () => {
  it('answers a message from an OpenAI model, with its usage', async () => {
    const msg = await client.messages.create({ model: 'chat', max_tokens: 100, system: 'Be brief.', messages: user('translate me'), stop_sequences: ['END'] })
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', model: 'chat', content: [{ type: 'text', text: 'You said: translate me' }], stop_reason: 'end_turn' })
    expect(msg.usage.input_tokens).toBeGreaterThan(0)
    const [seen] = ctx.mock.seen
    expect(seen!.body).toMatchObject({ model: 'upstream-chat', max_tokens: 100, stop: ['END'], messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'translate me' }] })
    expect(seen!.headers.authorization).toBe(`Bearer ${ACME_KEY}`)
  })

  it('streams Claude Code\'s request to a local model: tools as functions, the tool call back as a tool_use block', async () => {
    const stream = client.messages.stream(claudeCode('qwen-local'), { headers: { 'anthropic-beta': BETAS } })
    const final = await stream.finalMessage()
    expect(final.content).toEqual([{ type: 'tool_use', id: 'call_0_search', name: 'search', input: { query: 'use search to find the flaky test' } }])
    expect(final.stop_reason).toBe('tool_use')
    const [seen] = ctx.local.seen
    expect(seen!.body).toMatchObject({
      model: 'local-coder-q4',
      stream: true,
      messages: [{ role: 'system', content: "You are Claude Code, Anthropic's official CLI for Claude.\n\nProject instructions: run the tests before you stop." }, { role: 'user', content: 'use search to find the flaky test' }],
      tools: [{ type: 'function', function: { name: 'search', parameters: search.input_schema } }, { type: 'function', function: { name: 'Bash' } }],
      user: 'user_abc_account__session_123',
    })
    expect(seen!.headers).not.toHaveProperty('anthropic-beta')
  })

  it('carries a conversation with tool results and images over, and the text back as text deltas', async () => {
    const stream = client.messages.stream({
      model: 'chat',
      max_tokens: 200,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'what is here?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: { query: 'png' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a tiny png' }, { type: 'text', text: 'describe it' }] },
      ],
      tools: [search],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    })
    const deltas: string[] = []
    stream.on('text', (t) => deltas.push(t))
    const final = await stream.finalMessage()
    expect(deltas.join('')).toBe('You said: describe it')
    expect(final.content).toMatchObject([{ type: 'text', text: 'You said: describe it' }])
    expect(ctx.mock.seen[0]!.body).toMatchObject({
      parallel_tool_calls: false,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'what is here?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'search', arguments: '{"query":"png"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'a tiny png' },
        { role: 'user', content: 'describe it' },
      ],
    })
  })

  it('names what it could not carry over', async () => {
    const res = await client.messages.create({ model: 'chat', max_tokens: 500, messages: user('x'), thinking: { type: 'enabled', budget_tokens: 1024 } }).withResponse()
    expect(res.response.headers.get('x-gateway-dropped-params')).toBe('thinking')
  })

  it('names, percent-encoded, what it could not carry over whose name a header cannot hold', async () => {
    const res = await client.messages.create({ model: 'chat', max_tokens: 500, messages: user('x'), ...{ 'snow ☃': 1, 'a\r\nb': 2 } } as never).withResponse()
    expect(res.response.status).toBe(200)
    expect(res.response.headers.get('x-gateway-dropped-params')).toBe('snow%20%E2%98%83, a%0D%0Ab')
  })
})

describe('count_tokens and the model list', () => {
  it('counts a Claude model\'s tokens upstream, and estimates another\'s (said so)', async () => {
    const counted = await client.messages.countTokens({ model: 'claude', messages: user('count these words please'), system: 'sys' })
    expect(counted.input_tokens).toBeGreaterThan(0)
    expect(ctx.mock.seen.at(-1)!.path).toBe('/v1/messages/count_tokens')
    const res = await client.messages.countTokens({ model: 'chat', messages: user('count these words please') }).withResponse()
    expect(res.data.input_tokens).toBeGreaterThan(0)
    expect(res.response.headers.get('x-gateway-estimate')).toBe('characters/4')
  })

  it('lists the models in Anthropic\'s shape, paged as the SDK pages, and retrieves one', async () => {
    const ids: string[] = []
    for await (const m of client.models.list({ limit: 3 })) ids.push(m.id)
    const openai = (await (await fetch(`${ctx.gw.url}/v1/models`)).json()) as { data: { id: string }[] }
    expect(ids).toEqual(openai.data.map((m) => m.id))
    const claude = await client.models.retrieve('claude')
    expect(claude).toMatchObject({ type: 'model', id: 'claude', display_name: 'Claude', max_tokens: 64000, lifecycle: 'active', retires_at: null })
    const soon = await client.models.retrieve('soon')
    expect(soon).toMatchObject({ lifecycle: 'deprecated', deprecated_at: '2026-10-01T00:00:00Z', retires_at: '2027-01-31T00:00:00Z' })
  })
})

describe('errors in Anthropic\'s envelope', () => {
  it.each([
    ['an unknown model', { model: 'nope', max_tokens: 10, messages: user('x') }, 404, 'not_found_error', "The model 'nope' does not exist or you do not have access to it."],
    ['a retired model', { model: 'old', max_tokens: 10, messages: user('x') }, 410, 'invalid_request_error', "The model 'old' was retired on 2026-06-01. Use chat instead."],
    ['a missing max_tokens', { model: 'claude', messages: user('x') }, 400, 'invalid_request_error', 'max_tokens: Field required'],
    ['a missing model', { max_tokens: 10, messages: user('x') }, 400, 'invalid_request_error', 'model: Field required'],
    ['messages that are not a list', { model: 'claude', max_tokens: 10, messages: 'hi' }, 400, 'invalid_request_error', 'messages: Field required'],
    ['a message of another role', { model: 'claude', max_tokens: 10, messages: [{ role: 'system', content: 'x' }] }, 400, 'invalid_request_error', "messages.0.role: Input should be 'user' or 'assistant'"],
    ['a tool that is not an object', { model: 'claude', max_tokens: 10, messages: user('x'), tools: [null] }, 400, 'invalid_request_error', 'tools.0: Input should be an object'],
    ['a content block that is not an object', { model: 'chat', max_tokens: 10, messages: [{ role: 'user', content: [null] }] }, 400, 'invalid_request_error', 'messages.0.content: every block should be an object'],
  ])('%s', async (_, body, status, type, message) => {
    const res = await fetch(`${ctx.gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body) })
    expect({ status: res.status, body: await res.json() }).toEqual({ status, body: { type: 'error', error: { type, message } } })
  })

  it.each([[429, Anthropic.RateLimitError, 'rate_limit_error'], [529, Anthropic.InternalServerError, 'overloaded_error'], [500, Anthropic.InternalServerError, 'api_error']] as const)('an upstream %i keeps its status', async (status, kind, type) => {
    ctx.mock.fail({ status })
    const error = await client.messages.create({ model: 'claude', max_tokens: 10, messages: user('x') }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(kind)
    expect(error).toMatchObject({ status, error: { error: { type, message: expect.stringContaining(`mock fault: status ${status}`) } } })
  })

  it('an unknown model on the SDK is its NotFoundError', async () => {
    await expect(client.messages.create({ model: 'nope', max_tokens: 10, messages: user('x') })).rejects.toBeInstanceOf(Anthropic.NotFoundError)
  })
})
