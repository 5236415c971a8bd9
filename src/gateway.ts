import type { RequestView } from './request-view.ts'
import type { Catalog, Model } from './catalog/types.ts'
import type { Env } from './catalog/visibility.ts'
import { listedModels } from './catalog/visibility.ts'
import type { Config } from './config.ts'
import { mayUse } from './policy/access.ts'
import { Limits } from './policy/limits.ts'
import { redisStore } from './policy/redis-store.ts'
import type { Policy } from './policy/types.ts'
import type { Upstream } from './transport/client.ts'
import { resolveUpstreams } from './upstreams.ts'
import { Cooldowns } from './routing/cooldowns.ts'
import { Deployments } from './routing/deployments.ts'
import { startTracing, tracingWanted } from './tracing.ts'
import type { Tracer } from './tracing.ts'
import { Redactor } from './redact.ts'
import { etagMatches, reply, strongEtag } from './reply.ts'
import { Stats } from './stats.ts'

// A failing limits store is logged at most this often (each failure is counted in /metrics).
const STORE_LOG_EVERY_MS = 10_000

const DAY_MS = 86_400_000

/** What the routes read: the catalog, the environment and clock, runtime settings and stats. */
export interface Gateway {
  readonly catalog: Catalog
  readonly env: Env
  readonly config: Config
  readonly now: () => Date
  /** Settings an admin may change at run time: shared by every replica through Redis when REDIS_URL is set. */
  readonly runtime: { exposeExperimental: boolean }
  /** The access policy (teams.yaml). */
  readonly policy: Policy
  /** The teams' limits and budgets, and the store they (and the runtime switch) live in. */
  readonly limits: Limits
  /** Streams being sent: at the end of a drain, each is ended with an error event. */
  readonly streams: Set<{ end(reason: string): void }>
  readonly stats: Stats
  /** Each provider as this process reaches it (base URL, key, timeouts). */
  readonly upstreams: Readonly<Record<string, Upstream>>
  /** Where each model is served, and whose turn it is. */
  readonly deployments: Deployments
  /** Deployments skipped for a while after failing: shared by every replica through Redis when REDIS_URL is set. */
  readonly cooldowns: Cooldowns
  /** Takes every provider key out of what upstreams answer, on its way to a client. */
  readonly redactor: Redactor
  /**
   * OpenTelemetry traces: `current` once the SDK has loaded (only when an OTLP endpoint is set;
   * `ready` resolves then, or at once without one); `content` when prompts and answers may go in
   * spans (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true).
   */
  readonly tracing: { current?: Tracer; readonly ready: Promise<void>; readonly content: boolean }
  /** What the caller of `event` may use: undefined (everything) without a team, else its team's models. */
  allowed(event: RequestView): ((model: Model) => boolean) | undefined
  /** The models listed for the caller of `event`: its team's, when it has one. */
  listed(event: RequestView): readonly Model[]
  /**
   * A listing response built from the models listed for the caller (its team's, when it has
   * one), serialised once per catalog state and team (or its error thrown, cached alike);
   * `If-None-Match` with its ETag gets 304.
   */
  listing(event: RequestView, name: string, build: (models: readonly Model[]) => unknown): Response
  /** Closes the connections to the shared store, if any. */
  close(): Promise<void>
}

/** Builds the gateway state for one process; `warn` hears what an operator should know (a failing store). */
export function createGateway(catalog: Catalog, env: Env, config: Config, { now, nowMs }: { now: () => Date; nowMs: () => number }, policy: Policy, warn: (message: string) => void): Gateway {
  const runtime = { exposeExperimental: config.exposeExperimental }
  let state = { day: NaN, experimental: false, cache: new Map<string, { body: Uint8Array; headers: Readonly<{ etag: string; 'cache-control': string }> } | { error: unknown }>() }
  const upstreams = resolveUpstreams(catalog, env, config)
  const stats = new Stats(now)
  let logged = -Infinity
  let unlogged = 0
  const storeWarn = (message: string) => {
    const at = Date.now()
    if (at - logged < STORE_LOG_EVERY_MS) return void unlogged++
    warn(unlogged ? `${message} (and ${unlogged} more since the last line)` : message)
    ;[logged, unlogged] = [at, 0]
  }
  const store = config.redisUrl ? redisStore(config.redisUrl, (error) => storeWarn(`redis: ${error.message}`)) : undefined
  const limits = new Limits({ store, failure: config.limitsOnStoreFailure, now, stats, log: storeWarn })
  const cooldowns = new Cooldowns(now)
  // A cooldown started before the store is up goes out once it is.
  cooldowns.share = (key, until) => void limits.store().then((s) => s.cool(key, until)).catch((error: Error) => (stats.storeFailure(), storeWarn(`cooldown not shared: ${error.message}`)))
  // The shared switch: read once, then kept current by what any replica sets; cooldowns alike.
  void limits.store().then(async (s) => {
    s.onSwitch((value) => (runtime.exposeExperimental = value))
    s.onCool((key, until) => cooldowns.heard(key, until))
    const shared = await s.getSwitch().catch(() => undefined)
    if (shared !== undefined) runtime.exposeExperimental = shared
  })
  const tracing: Gateway['tracing'] = {
    content: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT === 'true',
    ready: tracingWanted(env)
      ? startTracing(env, catalog.version, warn).then((t) => void (tracing.current = t), (error: Error) => warn(`tracing is off: the OpenTelemetry SDK did not start (${error.message})`))
      : Promise.resolve(),
  }
  return {
    catalog,
    env,
    config,
    now,
    runtime,
    policy,
    limits,
    streams: new Set(),
    stats,
    upstreams,
    tracing,
    deployments: new Deployments(upstreams),
    cooldowns,
    redactor: new Redactor(Object.values(upstreams).map((u) => u.key)),
    allowed(event) {
      const team = event.context.team
      return team && ((model: Model) => mayUse(team, model, runtime.exposeExperimental))
    },
    listed(event) {
      const team = event.context.team
      // A team's experimental models are its own to see (mayUse): listed for the filter to decide.
      const listed = listedModels(catalog, { env, exposeExperimental: Boolean(team) || runtime.exposeExperimental, now: now() })
      return team ? listed.filter((m) => mayUse(team, m, runtime.exposeExperimental)) : listed
    },
    listing(event, name, build) {
      // What a listing depends on: the catalog and policy (fixed), the environment (fixed), the
      // experimental switch, the day (models are retired on their sunset day, UTC) and the team.
      const day = Math.floor(nowMs() / DAY_MS)
      if (day !== state.day || runtime.exposeExperimental !== state.experimental) state = { day, experimental: runtime.exposeExperimental, cache: new Map() }
      const team = event.context.team
      const entryKey = team ? `${name}\u0000${team.id}` : name
      let entry = state.cache.get(entryKey)
      if (!entry) {
        try {
          const text = JSON.stringify(build(this.listed(event)))
          // Its bytes, made once: sent as they are, where text is measured and encoded per send.
          entry = { body: Buffer.from(text), headers: { etag: strongEtag(text), 'cache-control': 'no-cache' } }
        } catch (error) {
          entry = { error } // a listing that cannot be built (503) stays so until the state changes
        }
        state.cache.set(entryKey, entry)
      }
      if ('error' in entry) throw entry.error
      if (etagMatches(event, entry.headers.etag)) return reply(event, null, entry.headers, 304)
      return reply(event, entry.body, entry.headers)
    },
    async close() {
      await tracing.ready
      await tracing.current?.shutdown().catch((error: Error) => warn(`tracing: the last spans were not sent (${error.message})`))
      await limits.drain()
      if (store) await (await store).close()
    },
  }
}
