import { ResponseEvents } from '../dialects/responses-translate.ts'
import { countTokens, embed, exampleOf, relevance, replyTo, stableId, textOf, toolsCalled } from './replies.ts'

// Fixed, so that the same request gets the same bytes.
const CREATED = 1_700_000_000

type Body = Record<string, any>

const sse = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`

/** POST /v1/chat/completions: the reply repeats the last user message; named tools are called. */
export function chatCompletion(body: Body): { json: unknown; chunks: string[] } {
  const messages: Body[] = Array.isArray(body.messages) ? body.messages : []
  const prompt = textOf([...messages].reverse().find((m) => m.role === 'user')?.content)
  const promptTokens = messages.reduce((n, m) => n + countTokens(textOf(m.content)), 0)
  // A conversation that ends in a tool's result is answered, not met with another call.
  const answering = messages.at(-1)?.role === 'tool'
  const declared: Body[] = (body.tools ?? []).filter((t: Body) => t.function?.name)
  const named = toolsCalled(prompt, declared.map((t) => t.function.name))
  const forced = typeof body.tool_choice === 'object' ? [body.tool_choice?.function?.name] : body.tool_choice === 'required' && !named.length && declared.length ? [declared[0]!.function.name] : undefined
  const tools: string[] = answering ? [] : (forced ?? named)
  // Arguments that validate against each tool's parameters; a structured answer against its schema.
  const schemaOf = (name: string) => declared.find((t) => t.function.name === name)?.function?.parameters
  const format = body.response_format
  const structured = format?.type === 'json_schema' ? JSON.stringify(exampleOf(format.json_schema?.schema, prompt)) : format?.type === 'json_object' ? JSON.stringify({ answer: prompt }) : undefined
  const reply = replyTo(prompt, body.max_completion_tokens ?? body.max_tokens)
  const { words, truncated } = structured === undefined ? reply : { words: [structured], truncated: false }
  const calls = tools.map((name, i) => ({ id: `call_${i}_${name}`, type: 'function', function: { name, arguments: JSON.stringify(exampleOf(schemaOf(name), prompt)) } }))
  const finish = calls.length ? 'tool_calls' : truncated ? 'length' : 'stop'
  const completionTokens = calls.length ? calls.length * 3 : words.length
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens }
  const id = stableId('chatcmpl', body)
  const base = { id, object: 'chat.completion.chunk', created: CREATED, model: body.model }
  const message = calls.length ? { role: 'assistant', content: null, tool_calls: calls } : { role: 'assistant', content: words.join('') }
  const json = { id, object: 'chat.completion', created: CREATED, model: body.model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage }
  const chunks = [sse({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] })]
  if (calls.length) {
    calls.forEach((c, index) => {
      chunks.push(sse({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } }] }, logprobs: null, finish_reason: null }] }))
      chunks.push(sse({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: c.function.arguments } }] }, logprobs: null, finish_reason: null }] }))
    })
  } else for (const w of words) chunks.push(sse({ ...base, choices: [{ index: 0, delta: { content: w }, logprobs: null, finish_reason: null }] }))
  chunks.push(sse({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finish }] }))
  if (body.stream_options?.include_usage) chunks.push(sse({ ...base, choices: [], usage }))
  chunks.push('data: [DONE]\n\n')
  return { json, chunks }
}

/** POST /v1/completions: the same reply to the prompt, as legacy text completions. */
export function textCompletion(body: Body): { json: unknown; chunks: string[] } {
  const prompt = Array.isArray(body.prompt) ? body.prompt.join(' ') : String(body.prompt ?? '')
  const { words, truncated } = replyTo(prompt, body.max_tokens)
  const usage = { prompt_tokens: countTokens(prompt), completion_tokens: words.length, total_tokens: countTokens(prompt) + words.length }
  const id = stableId('cmpl', body)
  const finish = truncated ? 'length' : 'stop'
  const base = { id, object: 'text_completion', created: CREATED, model: body.model }
  const json = { ...base, choices: [{ text: words.join(''), index: 0, logprobs: null, finish_reason: finish }], usage }
  const chunks = words.map((w, i) => sse({ ...base, choices: [{ text: w, index: 0, logprobs: null, finish_reason: i === words.length - 1 ? finish : null }] }))
  if (body.stream_options?.include_usage) chunks.push(sse({ ...base, choices: [], usage }))
  chunks.push('data: [DONE]\n\n')
  return { json, chunks }
}

/**
 * POST /v1/responses: the reply as a Responses API object, or its whole event stream (items,
 * content parts, deltas, done events, sequence numbers). Function tools the prompt names are
 * called (arguments from their schemas) unless the input ends in a function's output;
 * `text.format` json_schema gets JSON that validates against the schema.
 */
export function response(body: Body): { json: unknown; chunks: string[] } {
  const input: Body[] = Array.isArray(body.input) ? body.input : []
  const prompt = typeof body.input === 'string' ? body.input : textOf(input.filter((m) => m.role === 'user').at(-1)?.content)
  const declared: Body[] = (body.tools ?? []).filter((t: Body) => t?.type === 'function' && t.name)
  const answering = input.at(-1)?.type === 'function_call_output'
  const calls = answering ? [] : toolsCalled(prompt, declared.map((t) => t.name))
  const format = body.text?.format
  const structured = format?.type === 'json_schema' ? JSON.stringify(exampleOf(format.schema, prompt)) : undefined
  const reply = replyTo(prompt, body.max_output_tokens)
  const { words, truncated } = structured === undefined ? reply : { words: [structured], truncated: false }
  const id = `resp_${stableId('', body).slice(1)}`
  const events = new ResponseEvents(id.slice(5), body.model, CREATED)
  const chunks = [events.take()]
  if (calls.length) {
    calls.forEach((name, i) => {
      events.call(i, `call_${i}_${name}`, name, JSON.stringify(exampleOf(declared.find((t) => t.name === name)?.parameters, prompt)))
      chunks.push(events.take())
    })
  } else {
    for (const delta of words) {
      events.text(delta)
      chunks.push(events.take())
    }
  }
  const output = calls.length ? calls.length * 3 : words.length
  events.finish(truncated ? 'length' : 'stop', { prompt_tokens: countTokens(prompt), completion_tokens: output })
  chunks.push(events.take())
  return { json: events.response(), chunks }
}

/** POST /v1/embeddings: a deterministic unit vector per input (`dimensions`, default 8; floats or base64). */
export function embeddings(body: Body): unknown {
  const inputs: string[] = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')]
  const tokens = inputs.reduce((n, t) => n + countTokens(t), 0)
  return {
    object: 'list',
    data: inputs.map((t, index) => {
      const vector = embed(t, body.dimensions ?? 8)
      // The official SDKs ask for base64 (little-endian float32) unless told otherwise.
      const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector
      return { object: 'embedding', index, embedding }
    }),
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  }
}

/** POST /v1/moderations: flags violence when the text names it. */
export function moderations(body: Body): unknown {
  const inputs: string[] = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')]
  return {
    id: stableId('modr', body),
    model: body.model,
    results: inputs.map((t) => {
      const violent = /\b(kill|violence|violent)\b/i.test(t)
      return { flagged: violent, categories: { violence: violent }, category_scores: { violence: violent ? 0.9 : 0.01 } }
    }),
  }
}

/** POST /v1/rerank: documents scored by the share of query words they contain, best first. */
export function rerank(body: Body): unknown {
  const docs: string[] = (body.documents ?? []).map((d: unknown) => (typeof d === 'string' ? d : String((d as Body)?.text ?? '')))
  const results = docs.map((d, index) => ({ index, relevance_score: relevance(String(body.query ?? ''), d), document: { text: d } }))
  results.sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
  const tokens = countTokens(String(body.query ?? '')) + docs.reduce((n, d) => n + countTokens(d), 0)
  return { id: stableId('rerank', body), model: body.model, results: results.slice(0, body.top_n ?? results.length), usage: { prompt_tokens: tokens, total_tokens: tokens } }
}
