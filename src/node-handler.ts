import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { H3 } from 'h3'
import type { Lane } from './lane.ts'
import { Reply } from './reply.ts'
import { NodeRequest, sendNodeResponse } from 'srvx/node'

// What srvx's FastResponse gives a Node server: status, flat raw headers (content-length
// included for a string or bytes), and the body as it was made.
type Piped = { pipe(dest: ServerResponse): unknown; destroy?(): void }
interface NodeAnswer {
  readonly status: number
  readonly statusText?: string
  readonly headers: string[]
  readonly body?: string | Uint8Array | ReadableStream | Piped | null
}

/**
 * An h3 app as a node:http request listener. The app's lane, when it has one, is asked first
 * (src/lane.ts); else the request is srvx's (lazy over the IncomingMessage). A Reply
 * (src/reply.ts) is written from its parts; any other FastResponse here too: head and body in
 * one `end` (srvx's own writer sends them in two writes and waits on a promise per answer), a
 * stream piped as it comes. Any other Response goes to srvx's writer. An answer that cannot be
 * written (a header Node refuses), or none at all (an error thrown), is a bare 500, and
 * `onError` is told why.
 */
export function nodeHandler(app: H3 & { readonly lane?: Lane }, onError: (error: Error) => void = () => {}): (req: IncomingMessage, res: ServerResponse) => void {
  const failed = (res: ServerResponse, error: Error) => {
    onError(error)
    _fail(res)
  }
  const send = (res: ServerResponse, response: Response) => {
    try {
      _send(res, response)?.catch((error: Error) => failed(res, error))
    } catch (error) {
      failed(res, error as Error)
    }
  }
  const { lane } = app
  return (req, res) => {
    let answer: Response | Promise<Response>
    try {
      answer = lane?.(req) ?? app.fetch(new NodeRequest({ req, res }) as unknown as Request)
    } catch (error) {
      return failed(res, error as Error)
    }
    if (answer instanceof Promise) answer.then((response) => send(res, response), (error: Error) => failed(res, error))
    else send(res, answer)
  }
}

// Writes `response`; a promise when srvx's writer does (any other Response than a FastResponse).
function _send(res: ServerResponse, response: Response): Promise<void> | void {
  if (response instanceof Reply) {
    const { status, statusText, headers, body } = response.parts
    if (res.destroyed) return // the client left before its answer
    if (!res.headersSent) res.writeHead(status, statusText, headers)
    return void res.end(body ?? undefined)
  }
  const fast = response as Response & { _toNodeResponse?(): NodeAnswer }
  if (!fast._toNodeResponse) return sendNodeResponse(res, response)
  const { status, statusText, headers, body } = fast._toNodeResponse()
  const piped = body && typeof body === 'object' && 'pipe' in body ? body : undefined
  // A stream's chunks end now (the upstream with them).
  const abandon = () => {
    piped?.destroy?.()
    if (body instanceof ReadableStream) void body.cancel().catch(() => {})
  }
  if (res.destroyed) return abandon() // the client left before its answer
  try {
    if (!res.headersSent) res.writeHead(status, statusText, headers)
  } catch (error) {
    abandon()
    throw error
  }
  if (body instanceof ReadableStream) pipeline(Readable.fromWeb(body as never), res).catch(() => {})
  else if (piped) piped.pipe(res)
  else res.end(body ?? undefined)
}

// The app's answer could not be written: a bare 500, or the connection cut when the head was sent.
function _fail(res: ServerResponse): void {
  if (res.writableEnded) return
  if (res.headersSent) return void res.destroy()
  res.writeHead(500, 'Internal Server Error', { 'content-type': 'text/plain; charset=utf-8' }).end('Internal Server Error')
}
