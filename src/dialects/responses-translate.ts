// The Responses API for models that do not serve it (Claude, OpenAI-compatible servers): a
// Responses request as a chat request, and the chat answer back as a response object or the
// Responses API's full event sequence (items, content parts, deltas, done events, sequence
// numbers), as the official SDKs' stream helpers expect it. Pure functions and one state machine.
import type { Model } from '../catalog/types.ts'
import { httpError } from '../errors.ts'
import type { SseEvent } from '../protocols/sse.ts'
import { sseText } from '../protocols/sse.ts'

type Json = Record<string, any>

// The Responses fields the translation carries over; any other is named as dropped.
const MAPPED: ReadonlySet<string> = new Set(['model', 'input', 'instructions', 'max_output_tokens', 'temperature', 'top_p', 'stream', 'tools', 'tool_choice', 'parallel_tool_calls', 'reasoning', 'text', 'user', 'safety_identifier', 'store', 'stream_options'])

/** Whether `/v1/responses` reaches `model` translated to chat completions: it serves chat, and not the Responses API itself. */
export function responsesTranslated(model: Model): boolean {
  return !model.apis.includes('responses') && model.apis.includes('chat')
}

/**
 * A Responses request as a chat request: instructions as the system message, input (a string
 * or items: messages with text and image parts, function calls and their outputs) as messages,
 * function tools, tool_choice, the output limit, effort, text.format as response_format.
 * 400 for what needs a stored conversation (`previous_response_id`).
 */
export function toChatFromResponses(b: Json): { body: Json; dropped: string[] } {
  if (b.previous_response_id !== undefined && b.previous_response_id !== null) {
    throw httpError(400, `previous_response_id needs the conversation stored upstream, which the model '${b.model}' does not keep: send the whole conversation in input.`, { code: 'unsupported_parameter', param: 'previous_response_id' })
  }
  const messages: Json[] = []
  if (typeof b.instructions === 'string' && b.instructions) messages.push({ role: 'system', content: b.instructions })
  const items: unknown[] = typeof b.input === 'string' ? [{ role: 'user', content: b.input }] : Array.isArray(b.input) ? b.input : []
  if (!Array.isArray(b.input) && typeof b.input !== 'string') throw httpError(400, 'input must be a string or a list of items', { code: 'invalid_type', param: 'input' })
  items.forEach((raw, i) => {
    if (!raw || typeof raw !== 'object') throw httpError(400, `input[${i}] must be an object`, { code: 'invalid_type', param: `input[${i}]` })
    const item = raw as Json
    if (item.type === 'function_call') {
      const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: String(item.arguments ?? '{}') } }
      const last = messages.at(-1)
      if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) last.tool_calls.push(call)
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] })
    } else if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: typeof item.output === 'string' ? item.output : JSON.stringify(item.output) })
    } else if (item.type === undefined || item.type === 'message') {
      const role = item.role === 'developer' ? 'system' : item.role
      if (!['user', 'assistant', 'system'].includes(role)) throw httpError(400, `input[${i}].role must be user, assistant, system or developer`, { code: 'invalid_value', param: `input[${i}].role` })
      messages.push({ role, content: _content(item.content, role) })
    }
  })
  const body: Json = { model: b.model, messages }
  if (b.max_output_tokens !== undefined && b.max_output_tokens !== null) body.max_tokens = b.max_output_tokens
  for (const field of ['temperature', 'top_p', 'parallel_tool_calls'] as const) if (b[field] !== undefined && b[field] !== null) body[field] = b[field]
  if (b.stream === true) Object.assign(body, { stream: true, stream_options: { include_usage: true } })
  if (b.reasoning?.effort) body.reasoning_effort = b.reasoning.effort
  const user = b.safety_identifier ?? b.user
  if (typeof user === 'string') body.user = user
  const dropped = Object.keys(b).filter((k) => !MAPPED.has(k) && b[k] !== undefined && b[k] !== null)
  if (Array.isArray(b.tools) && b.tools.length) {
    const functions = b.tools.filter((t: Json) => t?.type === 'function')
    if (functions.length < b.tools.length) dropped.push('tools (other than functions)')
    if (functions.length) body.tools = functions.map((t: Json) => ({ type: 'function', function: { name: t.name, ...(t.description && { description: t.description }), parameters: t.parameters ?? { type: 'object', properties: {} }, ...(t.strict !== undefined && { strict: t.strict }) } }))
  }
  const choice = b.tool_choice
  if (typeof choice === 'string') body.tool_choice = choice
  else if (choice?.type === 'function') body.tool_choice = { type: 'function', function: { name: choice.name } }
  const format = b.text?.format
  if (format?.type === 'json_schema') body.response_format = { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, ...(format.strict !== undefined && { strict: format.strict }) } }
  else if (format?.type === 'json_object') body.response_format = { type: 'json_object' }
  return { body, dropped }
}

// A message's content: text as it is, parts (input_text, output_text, input_image) as chat parts.
function _content(content: unknown, role: string): unknown {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  const parts = content.flatMap((p: Json): Json[] => {
    if (p?.type === 'input_text' || p?.type === 'output_text' || p?.type === 'text') return [{ type: 'text', text: p.text }]
    if (p?.type === 'input_image' && typeof p.image_url === 'string') return [{ type: 'image_url', image_url: { url: p.image_url, ...(p.detail && { detail: p.detail }) } }]
    return []
  })
  return role !== 'user' || parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('') : parts
}

/** A chat completion as a response object, under `model`. */
export function toResponse(c: Json, model: string, created: number): Json {
  const s = new ResponseEvents(String(c.id ?? ''), model, created)
  const message = (Array.isArray(c.choices) ? c.choices[0]?.message : undefined) ?? {}
  if (typeof message.content === 'string' && message.content) s.text(message.content)
  ;(Array.isArray(message.tool_calls) ? message.tool_calls : []).forEach((call: Json, i: number) => s.call(i, call.id, call.function?.name, call.function?.arguments ?? ''))
  s.finish(c.choices?.[0]?.finish_reason, c.usage)
  return s.response()
}

/** A chat stream's events (parsed: see `expanded`) as the Responses API's events. */
export async function* toResponseEvents(batches: AsyncIterable<SseEvent[]>, model: string, created: number): AsyncGenerator<string> {
  let s: ResponseEvents | undefined
  let usage: Json | undefined
  let finish: string | undefined
  for await (const batch of batches) {
    for (const event of batch) {
      if (event.data === '[DONE]') continue
      const chunk = JSON.parse(event.data) as Json
      s ??= new ResponseEvents(String(chunk.id ?? ''), model, created)
      if (chunk.error) {
        yield s.failed(String(chunk.error.message ?? 'the upstream stream failed'), String(chunk.error.code ?? 'upstream_error'))
        return
      }
      if (chunk.usage) usage = chunk.usage
      const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined
      if (typeof choice?.delta?.content === 'string' && choice.delta.content) s.text(choice.delta.content)
      const calls = choice?.delta?.tool_calls
      if (Array.isArray(calls)) calls.forEach((call: Json, i: number) => s!.call(call?.index ?? i, call?.id, call?.function?.name, call?.function?.arguments ?? ''))
      if (choice?.finish_reason) finish = choice.finish_reason
    }
    const out = s?.take()
    if (out) yield out
  }
  s ??= new ResponseEvents('', model, created)
  s.finish(finish, usage)
  yield s.take()
}

/**
 * The Responses API's event sequence built as an answer comes: `text` and `call` pieces in
 * order, then `finish`. `take()` returns the events written since the last take, as SSE text;
 * `response()` the response object as it stands.
 */
export class ResponseEvents {
  readonly #id: string
  readonly #base: Json
  readonly #items: Json[] = [] // in output order; each with its `index` and whether it is `done`
  readonly #calls = new Map<number, Json>() // tool call index -> its item
  #seq = 0
  #out: string[] = []
  #status = 'in_progress'
  #usage: Json | null = null
  #incomplete: Json | null = null

  constructor(chatId: string, model: string, created: number) {
    this.#id = `resp_${chatId.replace(/^(chatcmpl-|msg_)/, '') || 'gateway'}`
    this.#base = { id: this.#id, object: 'response', created_at: created, model }
    const response = this.response()
    this.#emit('response.created', { response })
    this.#emit('response.in_progress', { response })
  }

  text(delta: string): void {
    let item = this.#items.at(-1)
    if (item?.type !== 'message' || item.done) {
      this.#closeAll()
      item = this.#add({ type: 'message', id: `msg_${this.#id.slice(5)}_${this.#items.length}`, status: 'in_progress', role: 'assistant', text: '' })
      this.#emit('response.content_part.added', { item_id: item.id, output_index: item.index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } })
    }
    item.text += delta
    this.#emit('response.output_text.delta', { item_id: item.id, output_index: item.index, content_index: 0, delta, logprobs: [] })
  }

  /** A piece of tool call `index`: the first opens its item (calls may interleave; each keeps its own). */
  call(index: number, callId: string | undefined, name: string | undefined, args: string): void {
    let call = this.#calls.get(index)
    if (!call) {
      const last = this.#items.at(-1)
      if (last?.type === 'message' && !last.done) this.#close(last)
      call = this.#add({ type: 'function_call', id: `fc_${this.#id.slice(5)}_${this.#items.length}`, call_id: callId ?? `call_${index}`, name: name ?? '', arguments: '', status: 'in_progress' })
      this.#calls.set(index, call)
    }
    if (!args) return
    call.arguments += args
    this.#emit('response.function_call_arguments.delta', { item_id: call.id, output_index: call.index, delta: args })
  }

  finish(reason: string | undefined, usage: Json | undefined): void {
    this.#closeAll()
    this.#status = reason === 'length' ? 'incomplete' : 'completed'
    if (reason === 'length') this.#incomplete = { reason: 'max_output_tokens' }
    const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0
    this.#usage = usage ? { input_tokens: usage.prompt_tokens ?? 0, input_tokens_details: { cached_tokens: cached }, output_tokens: usage.completion_tokens ?? 0, output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 }, total_tokens: (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0) } : null
    this.#emit(this.#status === 'completed' ? 'response.completed' : 'response.incomplete', { response: this.response() })
  }

  /** An upstream failure mid-stream: the Responses API's `error` event, after which nothing comes. */
  failed(message: string, code: string): string {
    this.#emit('error', { code, message, param: null })
    return this.take()
  }

  response(): Json {
    return { ...this.#base, status: this.#status, error: null, incomplete_details: this.#incomplete, output: this.#items.map((item) => this.#shown(item)), usage: this.#usage }
  }

  take(): string {
    return this.#out.splice(0).join('')
  }

  #add(fields: Json): Json {
    const item = { ...fields, index: this.#items.length, done: false }
    this.#items.push(item)
    this.#emit('response.output_item.added', { output_index: item.index, item: this.#shown(item) })
    return item
  }

  #closeAll(): void {
    for (const item of this.#items) if (!item.done) this.#close(item)
  }

  // Ends an item: its done events, with everything it holds.
  #close(item: Json): void {
    if (item.type === 'message') {
      this.#emit('response.output_text.done', { item_id: item.id, output_index: item.index, content_index: 0, text: item.text, logprobs: [] })
      this.#emit('response.content_part.done', { item_id: item.id, output_index: item.index, content_index: 0, part: { type: 'output_text', text: item.text, annotations: [] } })
    } else {
      this.#emit('response.function_call_arguments.done', { item_id: item.id, output_index: item.index, arguments: item.arguments })
    }
    item.done = true
    item.status = 'completed'
    this.#emit('response.output_item.done', { output_index: item.index, item: this.#shown(item) })
  }

  // An item as the API shows it: a message with its text part (once done), or a function call.
  #shown(item: Json): Json {
    if (item.type !== 'message') return { type: item.type, id: item.id, call_id: item.call_id, name: item.name, arguments: item.arguments, status: item.status }
    return { type: 'message', id: item.id, status: item.status, role: 'assistant', content: item.done ? [{ type: 'output_text', text: item.text, annotations: [] }] : [] }
  }

  #emit(type: string, data: Json): void {
    this.#out.push(sseText({ event: type, data: JSON.stringify({ type, sequence_number: this.#seq++, ...data }) }))
  }
}
