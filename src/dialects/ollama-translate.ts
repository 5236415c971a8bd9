// The Ollama dialect's translation, as pure functions: the catalog's models in Ollama's
// listings, Ollama chat and generate requests as OpenAI chat requests, and OpenAI answers
// (one completion, or a stream's events) as Ollama's objects and NDJSON lines.
import { performance } from 'node:perf_hooks' // the global is a getter, run on every read
import { createHash } from 'node:crypto'
import type { Model } from '../catalog/types.ts'
import { httpError } from '../errors.ts'
import type { SseEvent } from '../protocols/sse.ts'

type Json = Record<string, any>

// Image types by the first bytes of their base64, for data URLs (Ollama sends bare base64).
const IMAGE_TYPES: readonly [string, string][] = [['iVBOR', 'image/png'], ['/9j/', 'image/jpeg'], ['R0lG', 'image/gif'], ['UklG', 'image/webp']]

// Catalog capabilities as Ollama names them in /api/show.
const CAPABILITIES: Readonly<Record<string, string>> = { function_calling: 'tools', vision: 'vision', reasoning: 'thinking' }

/** Ollama's `details`: family and parameter size where the catalog knows them. */
function _details(m: Model) {
  const family = m.family ?? m.provider
  return { parent_model: '', format: '', family, families: [family], parameter_size: m.parameter_size ?? '', quantization_level: '' }
}

function _modified(m: Model): string {
  return m.released ? `${m.released}T00:00:00Z` : '1970-01-01T00:00:00Z'
}

/** An entry of /api/tags. `size` is 0: a gateway holds no weights. `digest` hashes the catalog entry. */
export function toOllamaTag(m: Model) {
  const digest = createHash('sha256').update(JSON.stringify(m)).digest('hex')
  return { name: m.id, model: m.id, modified_at: _modified(m), size: 0, digest, details: _details(m) }
}

/** The /api/show body: context length in `model_info`, capabilities from what the model's APIs let the routes do. */
export function toOllamaShow(m: Model) {
  const arch = m.family ?? m.provider
  // What /api/chat and /api/generate (chat completions) and /api/embed will accept for it.
  const capabilities = m.apis.includes('chat') ? ['completion'] : m.apis.includes('embeddings') ? ['embedding'] : []
  for (const c of m.capabilities) if (CAPABILITIES[c]) capabilities.push(CAPABILITIES[c])
  const info: Record<string, unknown> = { 'general.architecture': arch, 'general.basename': m.id }
  if (m.context_window !== undefined) info[`${arch}.context_length`] = m.context_window
  if (m.parameter_size) info['general.size_label'] = m.parameter_size
  return { modelfile: '', parameters: '', template: '', details: _details(m), model_info: info, capabilities, modified_at: _modified(m) }
}

/** How an answer's lines are framed: the model name the client used, its shape (chat or generate), and the clock. */
export interface Framing {
  readonly model: unknown
  readonly shape: 'chat' | 'generate'
  readonly now: () => Date
}

/**
 * An Ollama chat request (`/api/generate`'s already made one) as an OpenAI chat request: 400 for
 * a `stream` that is not a boolean and for messages of the wrong shape; streams by default and
 * then asks for the usage, which the last line reports.
 */
export function toChatRequest(b: Json): Json {
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw httpError(400, `stream must be true or false (got ${JSON.stringify(b.stream)})`, { param: 'stream' })
  const stream = b.stream !== false
  const o = (b.options ?? {}) as Json
  const body: Json = { model: ollamaModel(b.model), messages: _messages(b.messages), stream }
  if (stream) body.stream_options = { include_usage: true } // the final line reports token counts
  if (Array.isArray(b.tools)) body.tools = b.tools
  if (b.format === 'json') body.response_format = { type: 'json_object' }
  else if (b.format && typeof b.format === 'object') body.response_format = { type: 'json_schema', json_schema: { name: 'format', schema: b.format } }
  for (const [from, to] of [['num_predict', 'max_tokens'], ['temperature', 'temperature'], ['top_p', 'top_p'], ['stop', 'stop'], ['seed', 'seed']] as const) if (o[from] !== undefined) body[to] = o[from]
  return body
}

/** An OpenAI chat completion as Ollama's one answer object, with counts and the duration since `started`. */
export function fromCompletion(json: Json, frame: Framing, started: number): Json {
  const choice = ((json.choices ?? []) as Json[])[0] ?? {}
  const calls = (choice.message?.tool_calls ?? []).map((c: Json) => ({ function: { name: c.function?.name, arguments: _parse(c.function?.arguments) } }))
  const usage = (json.usage ?? {}) as Json
  return _line(frame, { ..._message(frame, choice.message?.content ?? '', calls), done: true, done_reason: _reason(choice.finish_reason), total_duration: _ns(performance.now() - started), prompt_eval_count: usage.prompt_tokens ?? 0, eval_count: usage.completion_tokens ?? 0 })
}

/** OpenAI embeddings as Ollama's `/api/embed` answer. */
export function fromEmbeddings(json: Json, model: unknown, started: number): Json {
  const data = (json.data ?? []) as { embedding: number[] }[]
  return { model, embeddings: data.map((d) => d.embedding), total_duration: _ns(performance.now() - started), prompt_eval_count: (json.usage as Json | undefined)?.prompt_tokens ?? 0 }
}

/** A name as Ollama's clients send it, as the catalog knows it: `:latest` is the model itself. */
export function ollamaModel(model: unknown): unknown {
  return typeof model === 'string' ? ollamaName(model) : model
}

/** Ollama's names may carry a tag; `:latest` is the model itself. */
export function ollamaName(name: string): string {
  return name.endsWith(':latest') ? name.slice(0, -':latest'.length) : name
}

/**
 * A stream of OpenAI chat events as Ollama's NDJSON: a line per content delta, the tool calls
 * gathered into one line, then the done line with counts and durations; an error event becomes
 * Ollama's `{"error": "..."}` line.
 */
export async function* ndjson(batches: AsyncGenerator<SseEvent[]>, frame: Framing, started: number): AsyncGenerator<string> {
  const line = (fields: Json) => _line(frame, fields)
  const message = (content: string, calls?: Json[]) => _message(frame, content, calls)
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

function _line(frame: Framing, fields: Json): Json {
  return { model: frame.model, created_at: frame.now().toISOString(), ...fields }
}

function _message(frame: Framing, content: string, calls?: Json[]): Json {
  return frame.shape === 'chat' ? { message: { role: 'assistant', content, ...(calls?.length && { tool_calls: calls }) } } : { response: content }
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
