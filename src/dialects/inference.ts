import type { H3, H3Event } from 'h3'
import type { Api } from '../catalog/types.ts'
import type { Gateway } from '../gateway.ts'
import { deprecationHeaders } from '../gateway.ts'
import { sseBytes } from '../protocols/sse.ts'
import type { SseEvent } from '../protocols/sse.ts'
import { callModel } from '../routing/call.ts'
import type { Called } from '../routing/call.ts'
import { ENDPOINTS } from '../routing/rules.ts'
import { openaiError } from '../errors.ts'
import { reply, streamReply } from '../reply.ts'
import type { StreamFormat } from '../reply.ts'
import { jsonObject, route } from './internal/methods.ts'

/** Headers a call's answer carries: deprecation, and what the catalog's rules dropped. */
export function callHeaders(gw: Gateway, called: Called): Record<string, string> {
  const headers = deprecationHeaders(called.model, gw.now())
  return called.dropped.length ? { ...headers, 'x-gateway-dropped-params': called.dropped.join(', ') } : headers
}

/** POST /v1/chat/completions, /v1/completions, /v1/responses, /v1/embeddings, /v1/moderations, /v1/rerank. */
export function inferenceRoutes(app: H3, gw: Gateway): void {
  for (const api of Object.keys(ENDPOINTS) as Api[]) {
    route(app, ENDPOINTS[api], {
      POST: async (event: H3Event) => {
        const called = await callModel(gw, event, api, await jsonObject(event, gw.config.maxBodyBytes))
        const headers = callHeaders(gw, called)
        const o = called.outcome
        if (o.kind === 'json') return reply(event, o.text, headers)
        return streamReply(event, _sse(o.batches), SSE, headers)
      },
    })
  }
}

/** OpenAI's streams: server-sent events, an error as an event the OpenAI SDK raises (no [DONE]). */
export const SSE: StreamFormat = { contentType: 'text/event-stream; charset=utf-8', error: (e) => `data: ${JSON.stringify({ error: openaiError(e) })}\n\n` }

// A stream's batches as bytes: an upstream's untouched regions as they came.
async function* _sse(batches: AsyncGenerator<SseEvent[]>): AsyncGenerator<Uint8Array> {
  try {
    for await (const batch of batches) yield sseBytes(batch)
  } finally {
    await batches.return(undefined)
  }
}
