import { countTokens, exampleOf, replyTo, stableId, textOf, toolsCalled } from './replies.ts'

type Body = Record<string, any>

const event = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`

/**
 * POST /v1/messages (Anthropic's Messages API): the reply repeats the last user message; tools
 * the prompt names are called, in parallel, each as a tool_use block. Streamed as Anthropic's
 * events: message_start, ping, content_block_start/delta/stop, message_delta, message_stop.
 */
export function message(body: Body): { json: unknown; chunks: string[] } {
  const messages: Body[] = Array.isArray(body.messages) ? body.messages : []
  const prompt = textOf([...messages].reverse().find((m) => m.role === 'user')?.content)
  const system = typeof body.system === 'string' ? body.system : textOf(body.system)
  // System blocks marked for caching are read from the cache (deterministically: always).
  const cached = Array.isArray(body.system) ? countTokens(textOf(body.system.filter((b: Body) => b?.cache_control))) : 0
  const inputTokens = countTokens(system) - cached + messages.reduce((n, m) => n + countTokens(textOf(m.content)), 0)
  // A conversation that ends in a tool's result is answered; a forced tool is called.
  const last = messages.at(-1)
  const answering = last?.role === 'user' && Array.isArray(last.content) && last.content.some((b: Body) => b?.type === 'tool_result')
  const declared: Body[] = (body.tools ?? []).filter((t: Body) => t?.name)
  const named = toolsCalled(prompt, declared.map((t) => t.name))
  const forced = body.tool_choice?.type === 'tool' ? [body.tool_choice.name] : body.tool_choice?.type === 'any' && !named.length && declared.length ? [declared[0]!.name] : undefined
  const tools = answering ? [] : (forced ?? named)
  const stops: string[] = body.stop_sequences ?? []
  let { words, truncated } = replyTo(prompt, body.max_tokens)
  const stopAt = words.findIndex((w) => stops.includes(w.trim()))
  const stopped = stopAt >= 0 ? words[stopAt]!.trim() : null
  if (stopAt >= 0) [words, truncated] = [words.slice(0, stopAt), false]
  const id = `msg_${stableId('', body).slice(1)}`
  const content: Body[] = tools.length
    ? tools.map((name, i) => ({ type: 'tool_use', id: `toolu_${i}_${name}`, name, input: exampleOf(declared.find((t) => t.name === name)?.input_schema, prompt) }))
    : [{ type: 'text', text: words.join('') }]
  const outputTokens = tools.length ? tools.length * 3 : words.length
  const stop_reason = tools.length ? 'tool_use' : stopped ? 'stop_sequence' : truncated ? 'max_tokens' : 'end_turn'
  const json = { id, type: 'message', role: 'assistant', model: body.model, content, stop_reason, stop_sequence: stopped, usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: cached, output_tokens: outputTokens } }
  const chunks = [
    event('message_start', { message: { ...json, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: cached, output_tokens: 1 } } }),
    event('ping', {}),
  ]
  content.forEach((block, index) => {
    if (block.type === 'text') {
      chunks.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }))
      for (const text of words) chunks.push(event('content_block_delta', { index, delta: { type: 'text_delta', text } }))
    } else {
      chunks.push(event('content_block_start', { index, content_block: { ...block, input: {} } }))
      // The input JSON arrives in pieces, as Anthropic sends it.
      const json = JSON.stringify(block.input)
      const cut = Math.floor(json.length / 2)
      for (const partial_json of [json.slice(0, cut), json.slice(cut)]) chunks.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }))
    }
    chunks.push(event('content_block_stop', { index }))
  })
  chunks.push(event('message_delta', { delta: { stop_reason, stop_sequence: stopped }, usage: { output_tokens: outputTokens } }))
  chunks.push(event('message_stop', {}))
  return { json, chunks }
}

/** POST /v1/messages/count_tokens: the input tokens the same request would use (system, messages, tools). */
export function countMessageTokens(body: Body): { json: unknown } {
  const messages: Body[] = Array.isArray(body.messages) ? body.messages : []
  const system = typeof body.system === 'string' ? body.system : textOf(body.system)
  const tools = Array.isArray(body.tools) ? countTokens(JSON.stringify(body.tools)) : 0
  return { json: { input_tokens: countTokens(system) + tools + messages.reduce((n, m) => n + countTokens(textOf(m.content)), 0) } }
}
