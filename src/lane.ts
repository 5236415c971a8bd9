import type { IncomingMessage } from 'node:http'
import type { H3EventContext, H3Route } from 'h3'
import type { RequestView, RequestHeaders } from './request-view.ts'

/** The steps every request passes around its route's handler (`next`), made by createApp. */
export type Steps = (event: RequestView, next: () => unknown) => Response | Promise<Response>

/** A route the lane may answer: its GET reads no more than a RequestView holds and answers at once. */
export interface LaneRoute {
  /** What the steps read as the matched route (its pattern and what it declares). */
  readonly matched: H3Route
  readonly GET: (event: RequestView) => Response
}

/** Answers a request itself, or says `undefined`: the app answers it. */
export type Lane = (req: IncomingMessage) => Response | Promise<Response> | undefined

/**
 * The listings' lane: a GET of a lane route (the model listings), spelt exactly as registered
 * and without a query, is answered on node:http by the app's own steps and the route's own
 * handler, without h3's event, srvx's request or h3's dispatch: a one-route h3 app alone costs
 * about what the whole listing does so (bench part 1, against a bare node:http server). Anything
 * else (another method, HEAD included, a query, a path spelt otherwise) goes to the app.
 */
export function lane(routes: ReadonlyMap<string, LaneRoute>, steps: Steps): Lane {
  return (req) => {
    if (req.method !== 'GET') return undefined
    const route = routes.get(req.url!)
    if (!route) return undefined
    const event = new LaneRequest(req, route)
    return steps(event, () => route.GET(event))
  }
}

// A GET without a query: one object is its own request and URL (a listing allocates little).
class LaneRequest implements RequestView {
  readonly method = 'GET'
  readonly headers: NodeHeaders
  readonly pathname: string
  readonly context: H3EventContext
  constructor(req: IncomingMessage, route: LaneRoute) {
    this.headers = new NodeHeaders(req)
    this.pathname = route.matched.route!
    this.context = { matchedRoute: route.matched }
  }
  get req(): this {
    return this
  }
  get url(): this {
    return this
  }
  get searchParams(): URLSearchParams {
    return new URLSearchParams()
  }
}

/**
 * A node:http request's headers as Fetch's Headers reads them, names asked in lower case (as
 * every step asks for them): each a scan of the raw header lines, a repeated one's values
 * joined. Node's own parsed object would be made whole on first use, and it keeps only the
 * first of some repeated headers (Authorization among them) where Fetch joins them all.
 */
class NodeHeaders implements RequestHeaders {
  readonly #raw: readonly string[]
  constructor(req: IncomingMessage) {
    this.#raw = req.rawHeaders
  }
  get(name: string): string | null {
    const raw = this.#raw
    let value: string | null = null
    for (let i = 0; i < raw.length; i += 2) {
      const field = raw[i]!
      if (field.length === name.length && (field === name || field.toLowerCase() === name)) value = value === null ? raw[i + 1]! : `${value}, ${raw[i + 1]}`
    }
    return value
  }
  has(name: string): boolean {
    return this.get(name) !== null
  }
  [Symbol.iterator](): Iterator<[string, string]> {
    const all = new Headers()
    for (let i = 0; i < this.#raw.length; i += 2) all.append(this.#raw[i]!, this.#raw[i + 1]!)
    return all[Symbol.iterator]()
  }
}
