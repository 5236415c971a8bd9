import type { Model } from '../catalog/types.ts'
import { utcDay } from '../catalog/deprecation.ts'
import { httpError } from '../errors.ts'
import type { Stats } from '../stats.ts'
import { MemoryStore } from './store.ts'
import type { Bucket, LimitStore, Reserved, SettleRequest } from './store.ts'
import type { Team } from './types.ts'

/** What happens to requests while the shared store cannot be reached (`LIMITS_ON_STORE_FAILURE`). */
export type StoreFailure = 'open' | 'closed'

/** A bucket of a team's limits, and what it counts (for headers and messages). */
interface TeamBucket extends Bucket {
  readonly unit: 'requests' | 'tokens'
  /** The model whose own limit it is; absent for the team's. */
  readonly model?: string
}

/** What a call is expected to use before its answer says: a prompt estimate plus the output it asks for. */
export interface Estimate {
  readonly tokens: number
  /** USD at the catalog's prices (the prompt at the input price, the output at the output price). */
  readonly cost: number
}

/** A request's draw on its team's limits, settled once the answer's usage is known. */
export interface Reservation {
  readonly store: LimitStore
  readonly buckets: readonly TeamBucket[]
  readonly budgetKey?: string
  readonly estimate: Estimate
  /** The headers every answer to the call carries: OpenAI's `x-ratelimit-*`. */
  readonly headers: Readonly<Record<string, string>>
}

/**
 * A team's limits: requests and tokens per minute (the team's, and per model) and the monthly
 * budget, drawn before the upstream call in one store round trip (the budget takes the call's
 * estimated cost, so that concurrent calls cannot all spend the last of it) and settled after it.
 * Over a limit: 429 with `retry-after` and OpenAI's `x-ratelimit-*` headers, so the official SDKs
 * back off by themselves; budget spent: 429 `insufficient_quota`. While the shared store fails,
 * the limits count in this process (`open`, counted in /metrics) or requests get 503 (`closed`).
 */
export class Limits {
  readonly #store: Promise<LimitStore>
  readonly #local = new MemoryStore()
  readonly #failure: StoreFailure
  readonly #now: () => Date
  readonly #stats: Stats
  readonly #log: (message: string) => void
  // What answers owe the shared store, merged by key and sent in one go on the next turn of the
  // event loop: answers that finish together cost one round trip.
  #owed = { buckets: new Map<string, { capacity: number; delta: number }>(), budgets: new Map<string, number>() }
  #flushed: Promise<void> | undefined

  constructor(options: { store?: Promise<LimitStore>; failure: StoreFailure; now: () => Date; stats: Stats; log: (message: string) => void }) {
    this.#store = options.store ?? Promise.resolve(this.#local)
    this.#failure = options.failure
    this.#now = options.now
    this.#stats = options.stats
    this.#log = options.log
  }

  /** The store the limits and the runtime switch live in. */
  store(): Promise<LimitStore> {
    return this.#store
  }

  /**
   * Draws one request and the estimate from `team`'s limits for `model`, or throws the 429 (or
   * 503) that says why not. Undefined for a team without limits or budget.
   */
  async reserve(team: Team, model: Model, estimate: Estimate): Promise<Reservation | undefined> {
    const id = model.like ?? model.id
    const buckets: TeamBucket[] = []
    for (const [rates, scope] of [[team.limits, undefined], [team.limits.models[id] ?? {}, id]] as const) {
      const prefix = scope === undefined ? `gw:l:${team.id}` : `gw:l:${team.id}:m:${scope}`
      if (rates.rpm) buckets.push({ key: `${prefix}:rpm`, capacity: rates.rpm, cost: 1, unit: 'requests', model: scope })
      if (rates.tpm) buckets.push({ key: `${prefix}:tpm`, capacity: rates.tpm, cost: estimate.tokens, unit: 'tokens', model: scope })
    }
    const now = this.#now()
    const month = utcDay(now).slice(0, 7)
    const budget = team.budget === undefined ? undefined : { key: `gw:b:${team.id}:${month}`, limit: team.budget, cost: estimate.cost }
    if (!buckets.length && !budget) return undefined
    let store = await this.#store
    const request = { now: now.getTime(), buckets, budget }
    let reserved: Reserved
    try {
      reserved = await store.reserve(request)
    } catch (error) {
      store = this.#storeFailed(error)
      reserved = await store.reserve(request)
    }
    const headers = _headers(buckets, reserved.tokens)
    if (reserved.result === 'spent') {
      this.#stats.limited(team.id, 'budget')
      const renews = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 10)
      throw httpError(429, `You exceeded your current quota: team '${team.id}' has spent $${_usd(reserved.spent)} of its $${team.budget} budget for ${month}; it renews on ${renews}.`, {
        code: 'insufficient_quota',
        headers: { ...headers, 'x-should-retry': 'false' },
      })
    }
    if (reserved.result === 'limited') {
      const i = Math.max(0, reserved.limitedBy)
      const b = buckets[i]!
      const waitMs = Math.max(1, Math.ceil(((Math.min(b.cost, b.capacity) - reserved.tokens[i]!) * 60_000) / b.capacity))
      this.#stats.limited(team.id, b.unit)
      const per = b.unit === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)'
      const scope = b.model === undefined ? '' : ` for model '${b.model}'`
      throw httpError(429, `Rate limit reached for team '${team.id}'${scope} on ${per}: Limit ${b.capacity}, Remaining ${Math.max(0, Math.floor(reserved.tokens[i]!))}, Requested ${b.cost}. Please try again in ${_duration(waitMs)}.`, {
        code: 'rate_limit_exceeded',
        headers: { ...headers, 'retry-after': String(Math.ceil(waitMs / 1000)), 'retry-after-ms': String(waitMs) },
      })
    }
    return { store, buckets, budgetKey: budget?.key, estimate, headers }
  }

  /**
   * The team's request headers (`x-ratelimit-*-requests`) for an answer that drew nothing (a
   * listing, an error): every answer to a team says how many requests it has left. None while
   * the store cannot say.
   */
  async headers(team: Team): Promise<Record<string, string>> {
    if (!team.limits.rpm) return {}
    const bucket: TeamBucket = { key: `gw:l:${team.id}:rpm`, capacity: team.limits.rpm, cost: 1, unit: 'requests' }
    try {
      const store = await this.#store
      return _headers([bucket], await store.peek(this.#now().getTime(), [bucket]))
    } catch {
      return {}
    }
  }

  /**
   * After the answer: the draw put right with what it really used. `used` absent (no usage came:
   * the client left before it, or the upstream sends none) keeps the estimate; a call that got no
   * answer at all settles with zero. Resolves once the store has it (the answer waits for it, so
   * that the next request, to whichever replica, sees the budget as it is); never rejects.
   */
  settle(r: Reservation, used: Estimate = r.estimate): Promise<void> {
    const buckets = r.buckets.filter((b) => b.unit === 'tokens').map((b) => ({ key: b.key, capacity: b.capacity, delta: used.tokens - b.cost }))
    const budgets = r.budgetKey ? [{ key: r.budgetKey, usd: used.cost - r.estimate.cost }] : []
    if (!buckets.some((b) => b.delta) && !budgets.some((b) => b.usd)) return Promise.resolve()
    if (r.store === this.#local) return this.#local.settle({ now: this.#now().getTime(), buckets, budgets })
    this.#owe({ now: 0, buckets, budgets })
    return (this.#flushed ??= new Promise<void>((resolve) => setImmediate(() => void this.#flush().then(resolve))))
  }

  /** Waits for what answers still owe the store to be sent. */
  async drain(): Promise<void> {
    await this.#flushed
  }

  async #flush(): Promise<void> {
    this.#flushed = undefined
    const owed = this.#takeOwed()
    if (!owed) return
    const store = await this.#store
    await store.settle(owed).catch((error: unknown) => {
      try {
        this.#storeFailed(error)
        this.#owe(owed) // open: kept (merged by key) for the store's return; counted here meanwhile
        return this.#local.settle(owed)
      } catch {} // closed: lost with the store, as the requests are refused until it is back
    })
  }

  #owe(s: SettleRequest): void {
    for (const b of s.buckets) {
      const owed = this.#owed.buckets.get(b.key)
      this.#owed.buckets.set(b.key, { capacity: b.capacity, delta: (owed?.delta ?? 0) + b.delta })
    }
    for (const b of s.budgets) this.#owed.budgets.set(b.key, (this.#owed.budgets.get(b.key) ?? 0) + b.usd)
  }

  #takeOwed(): SettleRequest | undefined {
    const { buckets, budgets } = this.#owed
    if (!buckets.size && !budgets.size) return undefined
    this.#owed = { buckets: new Map(), budgets: new Map() }
    return {
      now: this.#now().getTime(),
      buckets: [...buckets].map(([key, b]) => ({ key, ...b })),
      budgets: [...budgets].map(([key, usd]) => ({ key, usd })),
    }
  }

  // The shared store failed: counted and logged; `closed` refuses the request, `open` counts here.
  #storeFailed(error: unknown): LimitStore {
    this.#stats.storeFailure()
    this.#log(`limits store failed: ${(error as Error).message}`)
    if (this.#failure === 'closed') {
      throw httpError(503, 'The limits store (Redis) cannot be reached, and LIMITS_ON_STORE_FAILURE=closed refuses requests until it is back.', { code: 'limits_unavailable' })
    }
    return this.#local
  }
}

/**
 * What a request is expected to use: its prompt's characters / 4 (inline images and files, sent
 * as data URLs, left out) and the output limit it asks for (none when it asks none), costed at
 * the model's prices.
 */
export function estimate(body: Record<string, unknown>, model: Model): Estimate {
  const prompt = body.messages ?? body.input ?? body.prompt ?? ''
  const text = typeof prompt === 'string' ? prompt : JSON.stringify(prompt, (_, v: unknown) => (typeof v === 'string' && v.startsWith('data:') ? '' : v))
  const input = Math.ceil(text.length / 4)
  const output = ([body.max_completion_tokens, body.max_tokens, body.max_output_tokens].find((v) => Number.isSafeInteger(v)) as number | undefined) ?? 0
  const p = model.pricing
  return { tokens: input + output, cost: p ? (input * p.input + output * p.output) / 1e6 : 0 }
}

// OpenAI's x-ratelimit-* trios, from the team-wide bucket of each unit (else the model's).
function _headers(buckets: readonly TeamBucket[], tokens: readonly number[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const unit of ['requests', 'tokens']) {
    const i = buckets.findIndex((b) => b.unit === unit)
    if (i < 0) continue
    const b = buckets[i]!
    const left = tokens[i]!
    headers[`x-ratelimit-limit-${unit}`] = String(b.capacity)
    headers[`x-ratelimit-remaining-${unit}`] = String(Math.max(0, Math.floor(left)))
    headers[`x-ratelimit-reset-${unit}`] = _duration(Math.ceil(((b.capacity - Math.min(left, b.capacity)) * 60_000) / b.capacity))
  }
  return headers
}

// Dollars and cents, and the small figures of a small budget to six places.
function _usd(usd: number): string {
  return usd >= 1 ? usd.toFixed(2) : String(Number(usd.toFixed(6)))
}

// As OpenAI writes durations: 20ms, 1s, 6m0s.
function _duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  const s = Math.ceil(ms / 1000)
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`
}
