// The Messages dialect's translation, as pure functions: the catalog's models in Anthropic's
// list shape, a Messages request as an OpenAI chat request (for models that do not speak
// Anthropic's protocol), and the chat answer (one completion, or a stream's chunks) back as a
// message or Anthropic's events. The other direction lives in protocols/anthropic.ts.
import type { Model } from '../catalog/types.ts'
import { deprecationState } from '../catalog/deprecation.ts'
import { httpError } from '../errors.ts'
import type { SseEvent } from '../protocols/sse.ts'
import { sseText } from '../protocols/sse.ts'

type Json = Record<string, any>

// OpenAI's finish reasons in Anthropic's words.
const STOP: Readonly<Record<string, string>> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', function_call: 'tool_use', content_filter: 'refusal' }

// The Messages request fields the translation carries over; any other is named as dropped.
const MAPPED: ReadonlySet<string> = new Set(['model', 'messages', 'system', 'max_tokens', 'stop_sequences', 'temperature', 'top_p', 'stream', 'metadata', 'tools', 'tool_choice', 'output_config'])

/** Anthropic's model object: the catalog's limits and lifecycle in its fields. */
export function toAnthropicModel(m: Model, now: Date) {
  const state = deprecationState(m, now)
  return {
    type: 'model',
    id: m.id,
    display_name: m.name,
    created_at: m.released ? `${m.released}T00:00:00Z` : '1970-01-01T00:00:00Z',
    max_input_tokens: m.context_window ?? null,
    max_tokens: m.max_output ?? null,
    lifecycle: state.state === 'none' ? 'active' : state.state,
    deprecated_at: state.state === 'none' ? null : `${m.deprecation?.announced ?? m.deprecation!.sunset}T00:00:00Z`,
    retires_at: m.deprecation ? `${m.deprecation.sunset}T00:00:00Z` : null,
  }
}

/** Anthropic's list page of `models`: `limit` of them (1 to 1000, default 20) after `after_id` or before `before_id`. */
export function anthropicPage(models: readonly Json[], query: URLSearchParams) {
  const limit = query.has('limit') ? Number(query.get('limit')) : 20
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw httpError(400, `limit: Input should be an integer from 1 to 1000 (got ${JSON.stringify(query.get('limit'))})`, { param: 'limit' })
  const after = query.get('after_id')
  const before = query.get('before_id')
  const at = (id: string) => {
    const i = models.findIndex((m) => m.id === id)
    if (i < 0) throw httpError(400, `no model with id ${JSON.stringify(id)} to page from`, { param: after === id ? 'after_id' : 'before_id' })
    return i
  }
  const start = after ? at(after) + 1 : before ? Math.max(0, at(before) - limit) : 0
  const end = before && !after ? at(before) : Math.min(models.length, start + limit)
  const data = models.slice(start, end)
  const more = before && !after ? start > 0 : end < models.length
  return { data, has_more: more, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }
}

/**
 * What a Messages request must carry before anything else is looked at, as Anthropic checks it:
 * `model`, `max_tokens` (a positive integer) and `messages` (a list of objects).
 */
export function checkMessagesRequest(b: Json, countOnly = false): void {
  if (typeof b.model !== 'string' || !b.model) throw httpError(400, 'model: Field required', { param: 'model' })
  if (!countOnly && b.max_tokens === undefined) throw httpError(400, 'max_tokens: Field required', { param: 'max_tokens' })
  if (!countOnly && (!Number.isInteger(b.max_tokens) || b.max_tokens < 1)) throw httpError(400, `max_tokens: Input should be a positive integer (got ${JSON.stringify(b.max_tokens)})`, { param: 'max_tokens' })
  if (!Array.isArray(b.messages)) throw httpError(400, 'messages: Field required', { param: 'messages' })
  b.messages.forEach((m: unknown, i: number) => {
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw httpError(400, `messages.${i}: Input should be an object`, { param: 'messages' })
    const { role, content } = m as Json
    if (role !== 'user' && role !== 'assistant') throw httpError(400, `messages.${i}.role: Input should be 'user' or 'assistant'`, { param: 'messages' })
    if (typeof content !== 'string' && !Array.isArray(content)) throw httpError(400, `messages.${i}.content: Input should be a string or a list of content blocks`, { param: 'messages' })
  })
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw httpError(400, `stream: Input should be a valid boolean (got ${JSON.stringify(b.stream)})`, { param: 'stream' })
  for (const field of ['tools', 'system'] as const) {
    const list = b[field]
    if (list === undefined || list === null || (field === 'system' && typeof list === 'string')) continue
    if (!Array.isArray(list)) throw httpError(400, `${field}: Input should be a list`, { param: field })
    const bad = list.findIndex((x: unknown) => !x || typeof x !== 'object' || Array.isArray(x))
    if (bad >= 0) throw httpError(400, `${field}.${bad}: Input should be an object`, { param: field })
  }
  b.messages.forEach((m: Json, i: number) => {
    if (Array.isArray(m.content) && m.content.some((x: unknown) => !x || typeof x !== 'object')) throw httpError(400, `messages.${i}.content: every block should be an object`, { param: 'messages' })
  })
}

/**
 * A Messages request as an OpenAI chat request: system (string or blocks) first, user and
 * assistant blocks as content parts and tool calls, tool results as tool messages, images by
 * URL or as data URLs, tools and tool_choice (parallel tool use off when the client disables
 * it), stop sequences, effort, the user id. Streams ask for the usage chunk (the answer's
 * message_delta reports it). What cannot be carried over (thinking, top_k, ...) is named.
 */
export function toChatRequest(b: Json): { body: Json; dropped: string[] } {
  const messages: Json[] = []
  const system = typeof b.system === 'string' ? b.system : Array.isArray(b.system) ? b.system.filter((x: Json) => x?.type === 'text').map((x: Json) => x.text).join('\n\n') : ''
  if (system) messages.push({ role: 'system', content: system })
  for (const m of b.messages as Json[]) {
    const blocks: Json[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content
    if (m.role === 'assistant') {
      const text = blocks.filter((x) => x?.type === 'text').map((x) => x.text).join('')
      const calls = blocks.filter((x) => x?.type === 'tool_use').map((x) => ({ id: x.id, type: 'function', function: { name: x.name, arguments: JSON.stringify(x.input ?? {}) } }))
      messages.push({ role: 'assistant', content: text || null, ...(calls.length && { tool_calls: calls }) })
      continue
    }
    // Tool results answer the calls before them: they go first, as tool messages.
    for (const r of blocks.filter((x) => x?.type === 'tool_result')) {
      const content = typeof r.content === 'string' ? r.content : Array.isArray(r.content) ? r.content.filter((x: Json) => x?.type === 'text').map((x: Json) => x.text).join('\n') : ''
      messages.push({ role: 'tool', tool_call_id: r.tool_use_id, content: r.is_error ? `Error: ${content}` : content })
    }
    const parts = blocks.flatMap((x): Json[] => {
      if (x?.type === 'text') return [{ type: 'text', text: x.text }]
      if (x?.type !== 'image') return []
      const s = x.source ?? {}
      return [{ type: 'image_url', image_url: { url: s.type === 'base64' ? `data:${s.media_type};base64,${s.data}` : s.url } }]
    })
    if (parts.length) messages.push({ role: 'user', content: parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('\n') : parts })
  }
  const body: Json = { model: b.model, messages, max_tokens: b.max_tokens }
  if (b.stream === true) Object.assign(body, { stream: true, stream_options: { include_usage: true } })
  if (Array.isArray(b.stop_sequences) && b.stop_sequences.length) body.stop = b.stop_sequences
  for (const field of ['temperature', 'top_p'] as const) if (b[field] !== undefined && b[field] !== null) body[field] = b[field]
  if (typeof b.metadata?.user_id === 'string') body.user = b.metadata.user_id
  if (b.output_config?.effort) body.reasoning_effort = b.output_config.effort
  if (Array.isArray(b.tools) && b.tools.length) {
    body.tools = b.tools.map((t: Json) => ({ type: 'function', function: { name: t.name, ...(t.description && { description: t.description }), parameters: t.input_schema ?? { type: 'object', properties: {} } } }))
    const choice = b.tool_choice as Json | undefined
    if (choice?.type === 'any') body.tool_choice = 'required'
    else if (choice?.type === 'tool') body.tool_choice = { type: 'function', function: { name: choice.name } }
    else if (choice?.type === 'none') body.tool_choice = 'none'
    if (choice?.disable_parallel_tool_use === true) body.parallel_tool_calls = false
  }
  const dropped = Object.keys(b).filter((k) => !MAPPED.has(k) && b[k] !== undefined && b[k] !== null)
  return { body, dropped }
}

/** A chat completion as a Messages API message, under `model`. */
export function toMessage(c: Json, model: string): Json {
  const choice = (Array.isArray(c.choices) ? c.choices[0] : undefined) ?? {}
  const content: Json[] = []
  if (typeof choice.message?.content === 'string' && choice.message.content) content.push({ type: 'text', text: choice.message.content })
  for (const call of Array.isArray(choice.message?.tool_calls) ? choice.message.tool_calls : []) content.push({ type: 'tool_use', id: call.id, name: call.function?.name, input: _input(call.function?.arguments) })
  return { id: _id(c.id), type: 'message', role: 'assistant', model, content, stop_reason: STOP[choice.finish_reason] ?? 'end_turn', stop_sequence: null, usage: _usage(c.usage) }
}

/**
 * A chat stream's events (parsed: see `expanded`) as Anthropic's: message_start, a text block
 * and a tool_use block per tool call (content_block_start, deltas, content_block_stop),
 * message_delta with the stop reason and usage, message_stop. An error event the hub put in the
 * stream (the upstream failed mid-way) becomes Anthropic's `error` event, and the stream ends.
 */
export async function* toMessageEvents(batches: AsyncIterable<SseEvent[]>, model: string): AsyncGenerator<string> {
  let started = false
  let open: { index: number; tool?: number } | undefined // the block being written
  let next = 0 // the next block's index
  let stop = 'end_turn'
  let usage: Json | undefined
  const tools = new Map<number, number>() // tool call index -> block index
  const out: string[] = []
  const emit = (type: string, data: Json) => out.push(sseText({ event: type, data: JSON.stringify({ type, ...data }) }))
  const close = () => {
    if (open) emit('content_block_stop', { index: open.index })
    open = undefined
  }
  for await (const batch of batches) {
    for (const event of batch) {
      if (event.data === '[DONE]') continue
      const chunk = JSON.parse(event.data) as Json
      if (chunk.error) {
        close()
        emit('error', { error: { type: 'api_error', message: String(chunk.error.message ?? 'the upstream stream failed') } })
        yield out.splice(0).join('')
        return
      }
      if (!started) {
        started = true
        emit('message_start', { message: { id: _id(chunk.id), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } } })
      }
      if (chunk.usage) usage = chunk.usage
      const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined
      const delta = choice?.delta ?? {}
      if (typeof delta.content === 'string' && delta.content) {
        if (open?.tool !== undefined) close()
        if (!open) {
          open = { index: next++ }
          emit('content_block_start', { index: open.index, content_block: { type: 'text', text: '' } })
        }
        emit('content_block_delta', { index: open.index, delta: { type: 'text_delta', text: delta.content } })
      }
      for (const [i, call] of (Array.isArray(delta.tool_calls) ? (delta.tool_calls as Json[]) : []).entries()) {
        if (!call || typeof call !== 'object') continue
        const n = call?.index ?? i
        if (!tools.has(n)) {
          close()
          tools.set(n, next)
          open = { index: next++, tool: n }
          emit('content_block_start', { index: open.index, content_block: { type: 'tool_use', id: call.id, name: call.function?.name, input: {} } })
        }
        const args = call.function?.arguments
        if (typeof args === 'string' && args) emit('content_block_delta', { index: tools.get(n)!, delta: { type: 'input_json_delta', partial_json: args } })
      }
      if (choice?.finish_reason) stop = STOP[choice.finish_reason] ?? 'end_turn'
    }
    if (out.length) yield out.splice(0).join('')
  }
  close()
  emit('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: _usage(usage) })
  emit('message_stop', {})
  yield out.splice(0).join('')
}

// OpenAI's usage in Anthropic's fields: cached prompt tokens are cache reads, apart from input_tokens.
function _usage(u: Json | undefined): Json {
  const cached = (u?.prompt_tokens_details?.cached_tokens ?? 0) as number
  return { input_tokens: ((u?.prompt_tokens ?? 0) as number) - cached, cache_read_input_tokens: cached, cache_creation_input_tokens: 0, output_tokens: (u?.completion_tokens ?? 0) as number }
}

function _id(id: unknown): string {
  return `msg_${String(id ?? '').replace(/^chatcmpl-/, '') || 'gateway'}`
}

function _input(args: unknown): Json {
  try {
    const value = JSON.parse(String(args ?? '{}')) as unknown
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {}
  } catch {
    return {}
  }
}
