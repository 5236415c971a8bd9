import type { H3Event } from 'h3'
import type { Catalog, Model } from './catalog/types.ts'
import type { Env } from './catalog/visibility.ts'
import { listedModels } from './catalog/visibility.ts'
import type { Config } from './config.ts'
import type { Upstream } from './transport/client.ts'
import { resolveUpstreams } from './upstreams.ts'
import { Redactor } from './redact.ts'
import { etagMatches, reply, strongEtag } from './reply.ts'
import { Stats } from './stats.ts'

const DAY_MS = 86_400_000

/** What the routes read: the catalog, the environment and clock, runtime settings and stats. */
export interface Gateway {
  readonly catalog: Catalog
  readonly env: Env
  readonly config: Config
  readonly now: () => Date
  /** Settings an admin may change at run time, for this process only. */
  readonly runtime: { exposeExperimental: boolean }
  /** Streams being sent: at the end of a drain, each is ended with an error event. */
  readonly streams: Set<{ end(reason: string): void }>
  readonly stats: Stats
  /** Each provider as this process reaches it (base URL, key, timeouts). */
  readonly upstreams: Readonly<Record<string, Upstream>>
  /** Takes every provider key out of what upstreams answer, on its way to a client. */
  readonly redactor: Redactor
  /**
   * A listing response built from the listed models, serialised once per catalog state (or
   * its error thrown, cached alike); `If-None-Match` with its ETag gets 304.
   */
  listing(event: H3Event, name: string, build: (models: readonly Model[]) => unknown): Response
}

/** Builds the gateway state for one process. */
export function createGateway(catalog: Catalog, env: Env, config: Config, now: () => Date): Gateway {
  const runtime = { exposeExperimental: config.exposeExperimental }
  let state = ''
  let cache = new Map<string, { body: string; etag: string } | { error: unknown }>()
  const upstreams = resolveUpstreams(catalog, env, config)
  return {
    catalog,
    env,
    config,
    now,
    runtime,
    streams: new Set(),
    stats: new Stats(now),
    upstreams,
    redactor: new Redactor(Object.values(upstreams).map((u) => u.key)),
    listing(event, name, build) {
      const date = now()
      // What a listing depends on: the catalog (fixed), the environment (fixed), the
      // experimental switch and the day (models are retired on their sunset day, UTC).
      const key = (runtime.exposeExperimental ? 'x' : '') + Math.floor(date.getTime() / DAY_MS)
      if (key !== state) [state, cache] = [key, new Map()]
      let entry = cache.get(name)
      if (!entry) {
        try {
          const body = JSON.stringify(build(listedModels(catalog, { env, exposeExperimental: runtime.exposeExperimental, now: date })))
          entry = { body, etag: strongEtag(body) }
        } catch (error) {
          entry = { error } // a listing that cannot be built (503) stays so until the state changes
        }
        cache.set(name, entry)
      }
      if ('error' in entry) throw entry.error
      const headers = { etag: entry.etag, 'cache-control': 'no-cache' }
      if (etagMatches(event, entry.etag)) return reply(event, null, headers, 304)
      return reply(event, entry.body, headers)
    },
  }
}
