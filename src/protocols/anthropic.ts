import { httpError } from '../errors.ts'
import { guarded, post, readText } from '../transport/client.ts'
import type { Signal, Upstream } from '../transport/client.ts'
import { errorMessage, parseJson } from './openai.ts'
import { LineTooLongError, SseParser, sseBatches, streamTruncated, unreadable } from './sse.ts'
import type { SseEvent } from './sse.ts'
import type { ServedModel } from './served.ts'
import type { Exchange, Outcome } from './types.ts'

// The Messages API version the mapping below follows.
const ANTHROPIC_VERSION = '2023-06-01'

// Anthropic pages its model list; more pages than this is not a model list.
const MAX_PAGES = 20

// Anthropic's stop reasons in OpenAI's words.
const FINISH: Readonly<Record<string, string>> = { end_turn: 'stop', stop_sequence: 'stop', tool_use: 'tool_calls', max_tokens: 'length', model_context_window_exceeded: 'length', pause_turn: 'stop', refusal: 'content_filter' }

// The chat request fields the mapping carries over; any other is dropped and named (or refused).
const MAPPED: ReadonlySet<string> = new Set(['model', 'messages', 'max_tokens', 'max_completion_tokens', 'stop', 'temperature', 'top_p', 'stream', 'stream_options', 'user', 'tools', 'tool_choice', 'parallel_tool_calls', 'response_format'])

type Json = Record<string, any>

/**
 * The `anthropic` protocol: an OpenAI chat request becomes a Messages API request and the
 * answer (a message, or its event stream) becomes a chat completion (or its chunks).
 */
export async function callAnthropic(ex: Exchange, up: Upstream, now: () => Date): Promise<Outcome> {
  if (ex.native) return _callNative(ex, ex.native, up)
  if (ex.api !== 'chat') throw httpError(400, `The model '${ex.model.id}' speaks Anthropic's Messages API, which the gateway maps from /v1/chat/completions only.`, { code: 'unsupported_api', param: 'model' })
  const unmapped = Object.keys(ex.body).filter((k) => !MAPPED.has(k) && ex.body[k] !== undefined && ex.body[k] !== null)
  if (unmapped.length && ex.unsupported === 'reject') {
    throw httpError(400, `Unsupported parameter: ${unmapped.join(', ')} cannot be sent to the Anthropic model '${ex.model.id}'.`, { code: 'unsupported_parameter', param: unmapped[0] })
  }
  const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION, ...(up.key && { 'x-api-key': up.key }) }
  if (ex.stream) headers.accept = 'text/event-stream'
  if (ex.traceHeaders) Object.assign(headers, ex.traceHeaders)
  // Anthropic's error envelope ({"type":"error","error":{"message"}}) reads as OpenAI's does.
  const res = await post(up, '/v1/messages', headers, toMessagesRequest(ex), ex.signal, errorMessage, ex.onRetry)
  ex.onHeaders?.()
  const created = Math.floor(now().getTime() / 1000)
  const model = String(ex.body.model)
  if (!ex.stream) {
    const json = toChatCompletion(parseJson(await readText(res, up), up), model, created, structuredTool(ex.body))
    return { kind: 'json', text: JSON.stringify(json), json, dropped: unmapped }
  }
  return { kind: 'stream', batches: toChunks(guarded(res.body, up), up, model, created, structuredTool(ex.body)), dropped: unmapped }
}

// A Messages API request sent as the client sent it (the catalog's upstream id, what the rules
// dropped removed), answered as Anthropic answered: the message, or its events passed through.
async function _callNative(ex: Exchange, native: NonNullable<Exchange['native']>, up: Upstream): Promise<Outcome> {
  const body: Json = { ...native.body, model: ex.upstreamId }
  for (const param of native.dropped) {
    if (param === 'temperature') delete body.temperature
    if (param === 'reasoning_effort' && body.output_config) body.output_config = { ...body.output_config, effort: undefined }
  }
  const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION, ...native.headers, ...(up.key && { 'x-api-key': up.key }) }
  if (ex.stream) headers.accept = 'text/event-stream'
  if (ex.traceHeaders) Object.assign(headers, ex.traceHeaders)
  const res = await post(up, '/v1/messages', headers, body, ex.signal, errorMessage, ex.onRetry)
  ex.onHeaders?.()
  if (!ex.stream) {
    const text = await readText(res, up)
    return { kind: 'json', text, json: parseJson(text, up), format: 'anthropic' }
  }
  return { kind: 'stream', batches: messagesStream(guarded(res.body, up), up), format: 'anthropic' }
}

/**
 * POST /v1/messages/count_tokens on Anthropic, the body as the client sent it (the catalog's
 * upstream id): its answer's text.
 */
export async function countTokens(up: Upstream, upstreamId: string, body: Json, clientHeaders: Readonly<Record<string, string>>, signal: Signal): Promise<string> {
  const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION, ...clientHeaders, ...(up.key && { 'x-api-key': up.key }) }
  const res = await post(up, '/v1/messages/count_tokens', headers, { ...body, model: upstreamId }, signal, errorMessage)
  const text = await readText(res, up)
  parseJson(text, up)
  return text
}

const LF2 = Buffer.from('\n\n')

/**
 * A Messages API event stream as it came, in batches of complete events: untouched regions,
 * except those carrying usage (message_start, message_delta), parsed so that they can be
 * counted (they are written out again as the same events). An event whose data is not JSON, or
 * an `error` event, ends it with an error; one that ends before message_stop is truncated.
 */
export async function* messagesStream(body: AsyncIterable<Uint8Array>, up: Upstream): AsyncGenerator<SseEvent[]> {
  let pending: Buffer[] = []
  let size = 0
  const parser = new SseParser() // for streams with CR line ends, which are parsed throughout
  let crlf = false
  // Whether these events end the stream (message_stop); an `error` event goes on to the client
  // as Anthropic sent it (its type tells the SDKs whether to retry), and then the stream fails.
  let failed: Json | undefined
  const check = (events: SseEvent[]): boolean => {
    let ended = false
    for (const e of events) {
      const json = JSON.parse(e.data) as Json
      if (json.type === 'error') failed = json
      if (json.type === 'message_stop') ended = true
    }
    return ended
  }
  const fail = () => httpError(502, `${up.provider.name}: ${failed!.error?.message ?? 'stream error'}`, { code: 'upstream_error', told: true })
  try {
    for await (const piece of body) {
      const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength)
      if (crlf || chunk.includes(13)) {
        crlf = true
        const events = [...(pending.length ? parser.push(Buffer.concat(pending.splice(0))) : []), ...parser.push(chunk)]
        if (events.length) {
          const ended = check(events)
          yield events
          if (failed) throw fail()
          if (ended) return
        }
        continue
      }
      const cut = chunk.lastIndexOf(LF2)
      if (cut === -1) {
        pending.push(chunk)
        size += chunk.length
        if (size > LineTooLongError.LIMIT) throw new LineTooLongError(`an event longer than ${LineTooLongError.LIMIT} bytes`)
        continue
      }
      const complete = Buffer.concat([...pending, chunk.subarray(0, cut + 2)])
      pending = cut + 2 < chunk.length ? [chunk.subarray(cut + 2)] : []
      size = chunk.length - cut - 2
      const events = new SseParser().push(complete)
      const ended = check(events)
      yield events.some((e) => e.data.includes('"usage":{')) ? events : [{ data: '', raw: complete }]
      if (failed) throw fail()
      if (ended) return
    }
    const rest = crlf ? parser.end() : pending.length ? new SseParser().push(Buffer.concat([...pending, LF2])) : []
    if (rest.length && check(rest)) return yield rest
    if (rest.length) yield rest
    if (failed) throw fail()
    throw streamTruncated(up.provider.name, 'message_stop')
  } catch (error) {
    throw unreadable(error, up.provider.name)
  }
}

/**
 * The ids Anthropic serves (`GET /v1/models`, every page), for the drift check: a control-plane
 * call with ofetch (retried), loaded only when asked for. A redirect is a failure.
 */
export async function listModels(up: Upstream): Promise<ServedModel[]> {
  const { ofetch } = await import('ofetch')
  const ids: ServedModel[] = []
  let after: string | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const list = await ofetch<{ data?: { id: string }[]; has_more?: boolean; last_id?: string }>(`${up.baseUrl}/v1/models`, {
      headers: { 'anthropic-version': ANTHROPIC_VERSION, ...(up.key && { 'x-api-key': up.key }) },
      query: { limit: 1000, ...(after && { after_id: after }) },
      retry: 2,
      timeout: 15_000,
      redirect: 'error',
    })
    ids.push(...(list.data ?? []).map((m) => ({ id: m.id })))
    if (!list.has_more || !list.last_id) break
    after = list.last_id
  }
  return ids
}

/** OpenAI chat request -> Messages API request. */
export function toMessagesRequest(ex: Exchange): Json {
  const b = ex.body as Json
  const system: string[] = []
  const messages: Json[] = []
  const push = (role: 'user' | 'assistant', blocks: Json[]) => {
    const last = messages.at(-1)
    if (last?.role === role) last.content.push(...blocks) // Anthropic wants roles to alternate
    else messages.push({ role, content: blocks })
  }
  _objects(b.messages ?? [], 'messages')
  for (const [i, m] of (b.messages ?? []).entries() as Iterable<[number, Json]>) {
    if (Array.isArray(m.content)) _objects(m.content, `messages[${i}].content`)
    if (m.tool_calls !== undefined && m.tool_calls !== null) _objects(m.tool_calls, `messages[${i}].tool_calls`)
    if (m.role === 'system' || m.role === 'developer') system.push(_text(m.content))
    else if (m.role === 'tool') push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: _text(m.content) }])
    else if (m.role === 'assistant') {
      const blocks = _blocks(m.content)
      for (const call of (m.tool_calls ?? []) as Json[]) blocks.push({ type: 'tool_use', id: call.id, name: call.function?.name, input: _object(call.function?.arguments) })
      push('assistant', blocks)
    } else push('user', _blocks(m.content))
  }
  const out: Json = { model: ex.upstreamId, messages, max_tokens: b.max_completion_tokens ?? b.max_tokens ?? ex.model.max_output ?? 4096 }
  if (system.length) out.system = system.join('\n\n')
  if (b.stop !== undefined && b.stop !== null) out.stop_sequences = Array.isArray(b.stop) ? b.stop : [b.stop]
  for (const field of ['temperature', 'top_p', 'stream'] as const) if (b[field] !== undefined && b[field] !== null) out[field] = b[field]
  if (typeof b.user === 'string') out.metadata = { user_id: b.user }
  if (b.tools !== undefined && b.tools !== null) {
    _objects(b.tools, 'tools')
    out.tools = (b.tools as Json[]).map((t) => ({ name: t.function?.name, description: t.function?.description, input_schema: t.function?.parameters ?? { type: 'object', properties: {} } }))
  }
  const choice = _toolChoice(b.tool_choice, b.parallel_tool_calls)
  if (choice && out.tools) out.tool_choice = choice
  // Structured outputs: a tool whose input schema is the requested one, which Claude must call.
  const structured = structuredTool(b)
  if (structured) {
    const format = b.response_format as Json
    const schema = format.type === 'json_schema' ? (format.json_schema?.schema ?? { type: 'object' }) : { type: 'object' }
    out.tools = [...(out.tools ?? []), { name: structured, description: 'Give the answer as this tool\'s input: JSON that matches its schema.', input_schema: schema }]
    out.tool_choice = { type: 'tool', name: structured }
  }
  return out
}

/**
 * The tool that carries a structured answer (`response_format` json_schema or json_object): its
 * name (the schema's, else `json_response`), or undefined when plain text is asked for.
 */
export function structuredTool(body: Json): string | undefined {
  const format = body.response_format as Json | undefined
  if (format?.type === 'json_object') return 'json_response'
  if (format?.type !== 'json_schema') return undefined
  const name = format.json_schema?.name
  return typeof name === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(name) ? name : 'json_response'
}

/** Messages API response -> chat completion; with `structured`, that tool's input is the message's content (JSON). */
export function toChatCompletion(msg: Json, model: string, created: number, structured?: string): Json {
  const blocks: Json[] = msg.content ?? []
  const answer = structured ? blocks.find((c) => c.type === 'tool_use' && c.name === structured) : undefined
  if (answer) return { id: msg.id, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify(answer.input ?? {}) }, logprobs: null, finish_reason: 'stop' }], usage: _usage(msg.usage) }
  const text = blocks.filter((c) => c.type === 'text').map((c) => c.text).join('')
  const calls = blocks.filter((c) => c.type === 'tool_use').map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.input ?? {}) } }))
  const message: Json = { role: 'assistant', content: calls.length && !text ? null : text }
  if (calls.length) message.tool_calls = calls
  return { id: msg.id, object: 'chat.completion', created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH[msg.stop_reason] ?? 'stop' }], usage: _usage(msg.usage) }
}

/**
 * Messages API event stream -> chat.completion.chunk events, the usage chunk (the caller strips
 * it unless the client asked for it), then [DONE]. A stream cut off before message_stop is an error.
 */
export async function* toChunks(body: AsyncIterable<Uint8Array>, up: Upstream, model: string, created: number, structured?: string): AsyncGenerator<SseEvent[]> {
  let id = ''
  let usage: Json = {}
  const tools = new Map<number, number>() // content block index -> tool call index
  let answer: number | undefined // the block of the structured answer's tool, whose input is the content
  const chunk = (delta: Json, finish: string | null = null): SseEvent => ({ data: JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] }) })
  try {
    for await (const batch of sseBatches(body)) {
      const out: SseEvent[] = []
      for (const event of batch) {
        const e = JSON.parse(event.data) as Json
        if (e.type === 'message_start') {
          id = e.message?.id ?? ''
          usage = { ...e.message?.usage }
          out.push(chunk({ role: 'assistant', content: '' }))
        } else if (e.type === 'content_block_start' && e.content_block?.type === 'tool_use' && structured && e.content_block.name === structured) {
          answer = e.index
        } else if (e.type === 'content_block_delta' && e.index === answer && e.delta?.type === 'input_json_delta') {
          out.push(chunk({ content: e.delta.partial_json }))
        } else if (e.type === 'content_block_start' && e.content_block?.type === 'tool_use') {
          tools.set(e.index, tools.size)
          out.push(chunk({ tool_calls: [{ index: tools.get(e.index), id: e.content_block.id, type: 'function', function: { name: e.content_block.name, arguments: '' } }] }))
        } else if (e.type === 'content_block_delta' && e.delta?.type === 'text_delta') {
          out.push(chunk({ content: e.delta.text }))
        } else if (e.type === 'content_block_delta' && e.delta?.type === 'input_json_delta') {
          out.push(chunk({ tool_calls: [{ index: tools.get(e.index) ?? 0, function: { arguments: e.delta.partial_json } }] }))
        } else if (e.type === 'message_delta') {
          usage = { ...usage, ...e.usage }
          out.push(chunk({}, answer !== undefined ? 'stop' : (FINISH[e.delta?.stop_reason] ?? 'stop')))
        } else if (e.type === 'message_stop') {
          out.push({ data: JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: _usage(usage) }) })
          out.push({ data: '[DONE]' })
          yield out
          return
        } else if (e.type === 'error') {
          if (out.length) yield out
          throw httpError(502, `${up.provider.name}: ${e.error?.message ?? 'stream error'}`, { code: 'upstream_error' })
        }
      }
      if (out.length) yield out
    }
    throw streamTruncated(up.provider.name, 'message_stop')
  } catch (error) {
    throw unreadable(error, up.provider.name)
  }
}

function _usage(u: Json | undefined): Json {
  const cached = (u?.cache_read_input_tokens ?? 0) as number
  const prompt = ((u?.input_tokens ?? 0) as number) + cached + ((u?.cache_creation_input_tokens ?? 0) as number)
  const completion = (u?.output_tokens ?? 0) as number
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } }
}

function _text(content: unknown): string {
  if (typeof content === 'string') return content
  return Array.isArray(content) ? content.filter((p: Json) => p.type === 'text').map((p: Json) => p.text).join('\n') : ''
}

// OpenAI content parts -> Anthropic blocks: text, and images by URL or as base64 data URLs.
function _blocks(content: unknown): Json[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : []
  if (!Array.isArray(content)) return []
  return content.flatMap((p: Json): Json[] => {
    if (p.type === 'text') return [{ type: 'text', text: p.text }]
    if (p.type !== 'image_url') return []
    const url = String(p.image_url?.url ?? '')
    const data = /^data:([^;]+);base64,(.*)$/s.exec(url)
    return [{ type: 'image', source: data ? { type: 'base64', media_type: data[1], data: data[2] } : { type: 'url', url } }]
  })
}

// The translation reads fields of these lists' items: each must be an object (400 otherwise).
function _objects(list: unknown, param: string): void {
  if (!Array.isArray(list)) throw httpError(400, `${param} must be a list`, { code: 'invalid_type', param })
  const bad = list.findIndex((x) => !x || typeof x !== 'object' || Array.isArray(x))
  if (bad >= 0) throw httpError(400, `${param}[${bad}] must be an object (got ${JSON.stringify(list[bad])})`, { code: 'invalid_type', param: `${param}[${bad}]` })
}

function _object(args: unknown): Json {
  let value = args ?? {}
  if (typeof args === 'string') {
    try {
      value = JSON.parse(args)
    } catch {}
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw httpError(400, 'tool_calls[].function.arguments must be a JSON object', { param: 'messages' })
  return value as Json
}

function _toolChoice(choice: unknown, parallel: unknown): Json | undefined {
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {}
  if (choice === 'auto' || (choice === undefined && parallel === false)) return { type: 'auto', ...disable }
  if (choice === 'required') return { type: 'any', ...disable }
  if (choice === 'none') return { type: 'none' }
  const name = (choice as Json | undefined)?.function?.name
  return name ? { type: 'tool', name, ...disable } : undefined
}
