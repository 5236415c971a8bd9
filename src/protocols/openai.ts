import { httpError } from '../errors.ts'
import { ENDPOINTS } from '../routing/rules.ts'
import { post, readText, streamTruncated, upstreamFailure } from '../transport/client.ts'
import type { Upstream } from '../transport/client.ts'
import { sseBatches } from './sse.ts'
import type { SseEvent } from './sse.ts'
import type { Exchange, Outcome } from './types.ts'

// APIs whose streams can carry a usage chunk when asked for one.
const USAGE_STREAMS = new Set(['chat', 'completions'])

/**
 * How an OpenAI stream says it is complete: `data: [DONE]` (chat, completions), the Responses
 * API's last event, or an error event (after which OpenAI sends nothing). A stream that ends
 * without one was cut off.
 */
export const STREAM_END = { data: '[DONE]', error: '{"error"', events: new Set(['response.completed', 'response.incomplete', 'response.failed', 'error']) }

/** Whether `e` is the event that completes an OpenAI stream. */
export function endsStream(e: SseEvent): boolean {
  return e.data === STREAM_END.data || e.data.startsWith(STREAM_END.error) || (e.event !== undefined && STREAM_END.events.has(e.event))
}

/**
 * The `openai` protocol (OpenAI, llama.cpp, vLLM, Ollama's /v1): the body goes through with
 * only the catalog's changes (the upstream id; the rules already ran). Streams ask for the usage
 * chunk so that tokens can be counted; the caller strips it again if the client did not ask.
 */
export async function callOpenAI(ex: Exchange, up: Upstream): Promise<Outcome> {
  const body: Record<string, unknown> = { ...ex.body, model: ex.model.upstream_id }
  if (ex.stream && USAGE_STREAMS.has(ex.api)) body.stream_options = { ...(body.stream_options as object), include_usage: true }
  const headers: Record<string, string> = up.key ? { authorization: `Bearer ${up.key}` } : {}
  if (ex.stream) headers.accept = 'text/event-stream'
  const res = await post(up, ENDPOINTS[ex.api].replace(/^\/v1/, ''), headers, body, ex.signal)
  if (!ex.stream) {
    const text = await readText(res, up)
    return { kind: 'json', text, json: parseJson(text, up) }
  }
  return { kind: 'stream', events: _events(res.body, up), raw: res.body }
}

/** The upstream's JSON answer, or 502 when it is not JSON. */
export function parseJson(text: string, up: Upstream): Record<string, unknown> {
  try {
    const json = JSON.parse(text) as unknown
    if (json && typeof json === 'object') return json as Record<string, unknown>
  } catch {}
  throw httpError(502, `${up.provider.name} answered with a body that is not JSON`, { code: 'upstream_invalid' })
}

async function* _events(body: AsyncIterable<Uint8Array> & { destroy(): unknown }, up: Upstream): AsyncGenerator<SseEvent[]> {
  let ended = false
  try {
    for await (const batch of sseBatches(body)) {
      ended ||= batch.some(endsStream)
      yield batch
    }
    if (!ended) throw streamTruncated(up, 'its end ([DONE])')
  } catch (error) {
    throw upstreamFailure(error, up)
  } finally {
    body.destroy() // the client left, or the stream ended: release the upstream connection
  }
}
