import { createHash } from 'node:crypto'
import type { H3Event } from 'h3'
import type { WeightedAlias } from '../catalog/types.ts'

/**
 * The model a weighted alias gives this caller: the same every time for the same caller (the
 * request's `user`, else its key, else its address), each model for its weight's share of callers.
 * The caller's identity is hashed with the alias's name and never kept.
 */
export function armFor(name: string, alias: WeightedAlias, event: H3Event, body: Record<string, unknown>): string {
  const headers = event.req.headers
  const who = typeof body.user === 'string' && body.user ? `user:${body.user}` : `key:${headers.get('authorization') ?? headers.get('x-api-key') ?? event.req.ip ?? ''}`
  const arms = Object.entries(alias.models)
  const total = arms.reduce((sum, [, weight]) => sum + weight, 0)
  let point = createHash('sha256').update(`${name}\u0000${who}`).digest().readUInt32BE(0) % total
  for (const [model, weight] of arms) {
    if (point < weight) return model
    point -= weight
  }
  return arms.at(-1)![0] // not reached: the points cover the weights
}
