import { randomUUID } from 'node:crypto'
import type { RequestView } from '../request-view.ts'

// A client's request id is echoed only if it is this tame; otherwise a fresh one is made.
const REQUEST_ID = /^[\w.:-]{1,128}$/

/**
 * The request-id step: the client's `x-request-id` when it is tame, else this instance's random
 * id and a counter (unique across replicas, and cheaper than a UUID per request). Every answer
 * carries it, and the access log writes it as it is: an id is tame, or it is not taken.
 */
export function requestId(): (event: RequestView) => string {
  const instance = randomUUID().slice(0, 8)
  let served = 0
  return (event) => {
    const given = event.req.headers.get('x-request-id')
    const id = given && REQUEST_ID.test(given) ? given : `${instance}-${(++served).toString(36)}`
    ;(event.context.headers ??= {})['x-request-id'] = id
    return id
  }
}
