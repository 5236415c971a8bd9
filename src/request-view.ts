import type { H3EventContext } from 'h3'

/** The headers of a request as the steps read them: Fetch's `Headers` semantics (names in lower case). */
export type RequestHeaders = Pick<Headers, 'get' | 'has'> & Iterable<[string, string]>

/**
 * What the steps, the listings and the error renderer read of a request: its method, headers,
 * path and query, and the context the steps fill in. An h3 event is one; the listings' lane
 * (src/lane.ts) makes a lighter one over node:http's own request.
 */
export interface RequestView {
  readonly req: { readonly method: string; readonly headers: RequestHeaders }
  readonly url: { readonly pathname: string; readonly searchParams: URLSearchParams }
  readonly context: H3EventContext
}
