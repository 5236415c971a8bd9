import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import type { H3 } from 'h3'
import { NodeRequest, sendNodeResponse } from 'srvx/node'

// What srvx's FastResponse gives a Node server: status, flat raw headers (content-length
// included for a string or bytes), and the body as it was made.
interface NodeAnswer {
  readonly status: number
  readonly statusText?: string
  readonly headers: string[]
  readonly body?: string | Uint8Array | ReadableStream | { pipe(dest: ServerResponse): unknown; destroy?(): void } | null
}

/**
 * An h3 app as a node:http request listener. The request is srvx's (lazy over the
 * IncomingMessage); a FastResponse is written here: head and body in one `end` (srvx's own
 * writer sends them in two writes and waits on a promise per answer), a stream piped as it
 * comes. Any other Response goes to srvx's writer.
 */
export function nodeHandler(app: H3): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const answer = app.fetch(new NodeRequest({ req, res }) as unknown as Request)
    if (answer instanceof Promise) answer.then((response) => _send(res, response), () => _fail(res))
    else _send(res, answer)
  }
}

function _send(res: ServerResponse, response: Response): void {
  const fast = response as Response & { _toNodeResponse?(): NodeAnswer }
  if (!fast._toNodeResponse) return void sendNodeResponse(res, response).catch(() => _fail(res))
  const { status, statusText, headers, body } = fast._toNodeResponse()
  if (res.destroyed) {
    // The client left before its answer: a stream's chunks end now (the upstream with them).
    if (body && typeof body === 'object' && 'pipe' in body) body.destroy?.()
    else if (body instanceof ReadableStream) void body.cancel().catch(() => {})
    return
  }
  res.writeHead(status, statusText, headers)
  if (body instanceof ReadableStream) Readable.fromWeb(body as never).pipe(res)
  else if (body && typeof body === 'object' && 'pipe' in body) body.pipe(res)
  else res.end(body ?? undefined)
}

// The app failed to answer at all (h3 renders every error, so this is a defect): a bare 500,
// or the connection cut when the head was sent.
function _fail(res: ServerResponse): void {
  if (res.writableEnded) return
  if (res.headersSent) return void res.destroy()
  res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Internal Server Error')
}
