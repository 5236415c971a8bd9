import type { H3, H3Event } from 'h3'
import { httpError } from '../errors.ts'
import type { Gateway } from '../gateway.ts'
import { expanded } from '../protocols/sse.ts'
import type { SseEvent } from '../protocols/sse.ts'
import { callModel } from '../routing/call.ts'
import { reply, streamReply } from '../reply.ts'
import type { StreamFormat } from '../reply.ts'
import { callHeaders } from './inference.ts'
import { jsonObject, route } from './internal/methods.ts'
import { ollamaName } from './ollama.ts'

type Json = Record<string, any>

// Image types by the first bytes of their base64, for data URLs (Ollama sends bare base64).
const IMAGE_TYPES: readonly [string, string][] = [['iVBOR', 'image/png'], ['/9j/', 'image/jpeg'], ['R0lG', 'image/gif'], ['UklG', 'image/webp']]

// Ollama's streams: a JSON object a line, an error as `{"error": "..."}`.
const NDJSON: StreamFormat = { contentType: 'application/x-ndjson', error: (e) => `${JSON.stringify({ error: e.message })}\n` }

// Every route here answers errors as Ollama does.
const OLLAMA = { dialect: 'ollama' } as const

/**
 * POST /api/chat, /api/generate and /api/embed: Ollama requests become OpenAI calls of the
 * catalog's model, and their answers Ollama's: NDJSON streams by default, one object with
 * `"stream": false`; token counts from the upstream's usage, durations from the gateway's clock.
 */
export function ollamaInferenceRoutes(app: H3, gw: Gateway): void {
  route(app, '/api/chat', { POST: async (event) => _chat(gw, event, await jsonObject(event, gw.config.maxBodyBytes, false), 'chat') }, OLLAMA)
  route(app, '/api/generate', {
    POST: async (event) => {
      const b = await jsonObject(event, gw.config.maxBodyBytes, false)
      // An empty prompt only loads the model in Ollama: here there is nothing to load.
      if (b.prompt === undefined || b.prompt === '') return { model: b.model, created_at: gw.now().toISOString(), response: '', done: true, done_reason: 'load' }
      const messages = [...(b.system ? [{ role: 'system', content: b.system }] : []), { role: 'user', content: b.prompt, images: b.images }]
      return _chat(gw, event, { ...b, messages }, 'generate')
    },
  }, OLLAMA)
  route(app, '/api/embed', {
    POST: async (event) => {
      const b = await jsonObject(event, gw.config.maxBodyBytes, false)
      const started = performance.now()
      const called = await callModel(gw, event, 'embeddings', { model: _name(b.model), input: b.input, ...(b.dimensions ? { dimensions: b.dimensions } : {}) })
      const json = called.outcome.kind === 'json' ? called.outcome.json : {}
      const data = (json.data ?? []) as { embedding: number[] }[]
      const usage = (json.usage ?? {}) as Json
      return reply(event, JSON.stringify({ model: b.model, embeddings: data.map((d) => d.embedding), total_duration: _ns(performance.now() - started), prompt_eval_count: usage.prompt_tokens ?? 0 }), callHeaders(gw, called))
    },
  }, OLLAMA)
}

async function _chat(gw: Gateway, event: H3Event, b: Json, shape: 'chat' | 'generate'): Promise<Response> {
  const started = performance.now()
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw httpError(400, `stream must be true or false (got ${JSON.stringify(b.stream)})`, { param: 'stream' })
  const stream = b.stream !== false
  const o = (b.options ?? {}) as Json
  const body: Json = { model: _name(b.model), messages: _messages(b.messages), stream }
  if (stream) body.stream_options = { include_usage: true } // the final line reports token counts
  if (Array.isArray(b.tools)) body.tools = b.tools
  if (b.format === 'json') body.response_format = { type: 'json_object' }
  else if (b.format && typeof b.format === 'object') body.response_format = { type: 'json_schema', json_schema: { name: 'format', schema: b.format } }
  for (const [from, to] of [['num_predict', 'max_tokens'], ['temperature', 'temperature'], ['top_p', 'top_p'], ['stop', 'stop'], ['seed', 'seed']] as const) if (o[from] !== undefined) body[to] = o[from]
  const called = await callModel(gw, event, 'chat', body)
  const headers = callHeaders(gw, called)
  const line = (fields: Json) => ({ model: b.model, created_at: gw.now().toISOString(), ...fields })
  const message = (content: string, calls?: Json[]) => (shape === 'chat' ? { message: { role: 'assistant', content, ...(calls?.length && { tool_calls: calls }) } } : { response: content })
  if (called.outcome.kind === 'json') {
    const choice = ((called.outcome.json.choices ?? []) as Json[])[0] ?? {}
    const calls = (choice.message?.tool_calls ?? []).map((c: Json) => ({ function: { name: c.function?.name, arguments: _parse(c.function?.arguments) } }))
    const usage = (called.outcome.json.usage ?? {}) as Json
    return reply(event, JSON.stringify(line({ ...message(choice.message?.content ?? '', calls), done: true, done_reason: _reason(choice.finish_reason), total_duration: _ns(performance.now() - started), prompt_eval_count: usage.prompt_tokens ?? 0, eval_count: usage.completion_tokens ?? 0 })), headers)
  }
  return streamReply(event, _ndjson(expanded(called.outcome.batches), started, line, message), NDJSON, headers)
}

async function* _ndjson(batches: AsyncGenerator<SseEvent[]>, started: number, line: (f: Json) => Json, message: (content: string, calls?: Json[]) => Json): AsyncGenerator<string> {
  let first: number | undefined
  let finish: string | undefined
  let usage: Json = {}
  const calls = new Map<number, { name: string; args: string }>()
  try {
    for await (const batch of batches) {
      let out = ''
      for (const e of batch) {
        if (e.data === '[DONE]') break
        let chunk: Json
        try {
          chunk = JSON.parse(e.data) as Json
        } catch {
          chunk = { error: { message: 'the upstream sent an event that is not JSON' } }
        }
        if (chunk.error) {
          yield `${out}${JSON.stringify({ error: chunk.error.message })}\n`
          return
        }
        if (chunk.usage) usage = chunk.usage
        const choice = (chunk.choices ?? [])[0]
        if (!choice) continue
        for (const t of choice.delta?.tool_calls ?? []) {
          const call = calls.get(t.index) ?? { name: '', args: '' }
          calls.set(t.index, { name: call.name + (t.function?.name ?? ''), args: call.args + (t.function?.arguments ?? '') })
        }
        if (choice.finish_reason) finish = choice.finish_reason
        if (choice.delta?.content) {
          first ??= performance.now()
          out += `${JSON.stringify(line({ ...message(choice.delta.content), done: false }))}\n`
        }
      }
      if (out) yield out
    }
    const end = performance.now()
    const toolCalls = [...calls.values()].map((c) => ({ function: { name: c.name, arguments: _parse(c.args) } }))
    if (toolCalls.length) yield `${JSON.stringify(line({ ...message('', toolCalls), done: false }))}\n`
    yield `${JSON.stringify(line({
      ...message(''),
      done: true,
      done_reason: _reason(finish),
      total_duration: _ns(end - started),
      prompt_eval_count: usage.prompt_tokens ?? 0,
      prompt_eval_duration: _ns((first ?? end) - started),
      eval_count: usage.completion_tokens ?? 0,
      eval_duration: _ns(end - (first ?? end)),
    }))}\n`
  } finally {
    await batches.return(undefined)
  }
}

// Ollama messages -> OpenAI messages: images as data URLs, tool calls with ids (Ollama has
// none) that the following tool results answer in order.
function _messages(messages: unknown): Json[] {
  if (!Array.isArray(messages)) throw httpError(400, 'messages must be a list', { param: 'messages' })
  const pending: string[] = []
  return messages.map((m: Json, i) => {
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw httpError(400, `messages[${i}] must be an object with a role and content`, { param: `messages[${i}]` })
    if (m.images !== undefined && m.images !== null && !(Array.isArray(m.images) && m.images.every((x: unknown) => typeof x === 'string'))) {
      throw httpError(400, `messages[${i}].images must be a list of base64-encoded images`, { param: `messages[${i}].images` })
    }
    if (m.role === 'tool') return { role: 'tool', content: String(m.content ?? ''), tool_call_id: pending.shift() ?? `call_${i}` }
    const images = m.images ? m.images.map((data: string) => ({ type: 'image_url', image_url: { url: `data:${_imageType(data)};base64,${data}` } })) : []
    const content = images.length ? [{ type: 'text', text: String(m.content ?? '') }, ...images] : String(m.content ?? '')
    if (m.role !== 'assistant' || !Array.isArray(m.tool_calls)) return { role: m.role, content }
    const tool_calls = m.tool_calls.map((c: unknown, j: number) => {
      if (!c || typeof c !== 'object' || Array.isArray(c)) throw httpError(400, `messages[${i}].tool_calls[${j}] must be an object with a function (got ${JSON.stringify(c)})`, { param: `messages[${i}].tool_calls[${j}]` })
      const { function: fn } = c as Json
      if (fn !== undefined && (!fn || typeof fn !== 'object')) throw httpError(400, `messages[${i}].tool_calls[${j}].function must be an object with a name and arguments`, { param: `messages[${i}].tool_calls[${j}].function` })
      const id = `call_${i}_${j}`
      pending.push(id)
      return { id, type: 'function', function: { name: fn?.name, arguments: JSON.stringify(fn?.arguments ?? {}) } }
    })
    return { role: 'assistant', content, tool_calls }
  })
}

function _imageType(base64: string): string {
  return IMAGE_TYPES.find(([prefix]) => base64.startsWith(prefix))?.[1] ?? 'application/octet-stream'
}

function _name(model: unknown): unknown {
  return typeof model === 'string' ? ollamaName(model) : model
}

function _parse(args: unknown): Json {
  try {
    return typeof args === 'string' ? (JSON.parse(args) as Json) : ((args as Json) ?? {})
  } catch {
    return { raw: args }
  }
}

function _reason(finish: string | undefined): string {
  return finish === 'length' ? 'length' : 'stop'
}

function _ns(ms: number): number {
  return Math.round(ms * 1e6)
}
