import type { Model } from '../catalog/types.ts'
import type { Upstream } from '../transport/client.ts'

/** One place a model is served: its upstream, the id sent there, and its share of the requests. */
export interface Place {
  /** `provider/upstream id` (`provider/pattern:MATCH` for an id only a pattern knows, so that clients cannot grow the set): what cools down, and what the stats name. */
  readonly key: string
  readonly up: Upstream
  readonly upstreamId: string
  readonly weight: number
}

/**
 * Where each model is served, and whose turn it is: requests spread over a model's places by
 * weight with smooth weighted round robin (as nginx does): exact shares over every run of
 * total-weight requests, a light place not starved by a heavy one, no randomness for tests to
 * guess. Per process.
 */
export class Deployments {
  readonly #upstreams: Readonly<Record<string, Upstream>>
  readonly #places = new WeakMap<Model, readonly Place[]>()
  readonly #current = new Map<string, Map<string, number>>()

  constructor(upstreams: Readonly<Record<string, Upstream>>) {
    this.#upstreams = upstreams
  }

  /** The places of `model` whose provider is configured (its key set, or keyless), in catalog order. */
  places(model: Model): readonly Place[] {
    let places = this.#places.get(model)
    if (places) return places
    places = (model.deployments ?? [{ provider: model.provider }]).flatMap((d) => {
      const up = this.#upstreams[d.provider]!
      if (up.provider.api_key_env && !up.key) return []
      const upstreamId = d.upstream_id ?? model.upstream_id
      const key = `${d.provider}/${model.pattern === undefined ? upstreamId : `pattern:${model.pattern}`}`
      return [{ key, up, upstreamId, weight: d.weight ?? 1 }]
    })
    this.#places.set(model, places)
    return places
  }

  /** The places to try, in order: the one whose turn it is, then the others by weight (the same order every time for equal weights). */
  order(model: string, places: readonly Place[]): readonly Place[] {
    if (places.length < 2) return places
    let current = this.#current.get(model)
    if (!current) this.#current.set(model, (current = new Map()))
    let total = 0
    let best: Place | undefined
    let bestScore = -Infinity
    for (const p of places) {
      total += p.weight
      const score = (current.get(p.key) ?? 0) + p.weight
      current.set(p.key, score)
      if (score > bestScore) [best, bestScore] = [p, score]
    }
    current.set(best!.key, bestScore - total)
    return [best!, ...places.filter((p) => p !== best).sort((a, b) => b.weight - a.weight)]
  }
}
