import type { H3, H3Event } from 'h3'
import { CONTROL_CHARACTERS } from '../../catalog/lookup.ts'
import { httpError } from '../../errors.ts'

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
type Handler = (event: H3Event) => unknown

/**
 * Registers `handlers` by method on `path`; any other method gets 405 with `Allow` (and
 * `refusal` as its message when given). HEAD is answered as GET without a body.
 */
export function route(app: H3, path: string, handlers: Partial<Record<Method, Handler>>, refusal?: string): void {
  const allow = [...Object.keys(handlers), ...(handlers.GET ? ['HEAD'] : [])].join(', ')
  app.all(path, (event) => {
    const method = event.req.method === 'HEAD' ? 'GET' : event.req.method
    const handler = handlers[method as Method]
    if (!handler) throw httpError(405, refusal ?? `${event.req.method} is not allowed here; use ${allow}`, { code: 'method_not_allowed', headers: { allow } })
    return handler(event)
  })
}

/**
 * The request's JSON body as an object; 413 past `limit` bytes (declared or counted, before
 * reading further), 415 for another content type when `strictType` (Ollama's clients send
 * none), 400 for anything that is not a JSON object.
 */
export async function jsonObject(event: H3Event, limit: number, strictType = true): Promise<Record<string, unknown>> {
  const type = event.req.headers.get('content-type') ?? ''
  if (strictType && !/^application\/json\s*(;|$)/i.test(type)) throw httpError(415, `send the body as JSON with Content-Type: application/json (got ${type ? JSON.stringify(type) : 'none'})`, { code: 'unsupported_media_type' })
  const tooLarge = () => httpError(413, `the request body is larger than ${limit} bytes (MAX_BODY_BYTES)`, { code: 'request_too_large' })
  if (Number(event.req.headers.get('content-length') ?? 0) > limit) throw tooLarge()
  const chunks: Uint8Array[] = []
  let size = 0
  // Node's own request stream when there is one: much cheaper than its web-stream wrapper.
  const source = (event.runtime?.node?.req ?? event.req.body ?? []) as AsyncIterable<Uint8Array>
  for await (const chunk of source) {
    size += chunk.byteLength
    if (size > limit) throw tooLarge()
    chunks.push(chunk)
  }
  let body: unknown
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (error) {
    throw httpError(400, `the body is not valid JSON: ${(error as Error).message}`, { code: 'invalid_json' })
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw httpError(400, 'the body must be a JSON object', { code: 'invalid_json' })
  return body as Record<string, unknown>
}

/** Decodes a path parameter that may hold `%2F`-encoded slashes; 400 on bad encoding or control characters. */
export function pathId(raw: string | undefined): string {
  let id: string
  try {
    id = decodeURIComponent(raw ?? '')
  } catch {
    throw httpError(400, `the model id in the path is not valid percent-encoding: ${JSON.stringify(raw)}`, { code: 'invalid_model_id', param: 'model' })
  }
  if (CONTROL_CHARACTERS.test(id)) throw httpError(400, 'the model id contains control characters', { code: 'invalid_model_id', param: 'model' })
  return id
}
