import type { H3, H3Event } from 'h3'
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
    event.context.route = path
    const method = event.req.method === 'HEAD' ? 'GET' : event.req.method
    const handler = handlers[method as Method]
    if (!handler) throw httpError(405, refusal ?? `${event.req.method} is not allowed here; use ${allow}`, { code: 'method_not_allowed', headers: { allow } })
    return handler(event)
  })
}

/** The request's JSON body as an object, or 415 / 400 saying what is wrong with it. */
export async function jsonObject(event: H3Event): Promise<Record<string, unknown>> {
  const type = event.req.headers.get('content-type') ?? ''
  if (!/^application\/json\b/i.test(type)) throw httpError(415, `send the body as JSON with Content-Type: application/json (got ${type ? JSON.stringify(type) : 'none'})`, { code: 'unsupported_media_type' })
  let body: unknown
  try {
    body = JSON.parse(await event.req.text())
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
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) throw httpError(400, 'the model id contains control characters', { code: 'invalid_model_id', param: 'model' })
  return id
}
