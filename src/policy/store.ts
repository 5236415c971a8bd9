/**
 * Where limit counters, budgets, the runtime switch and deployment cooldowns live: in this process (MemoryStore), or in
 * Redis for every replica (redis-store.ts). Both run the same token buckets: a bucket holds up to
 * `capacity` (a team's rpm or tpm), refills at `capacity` per minute, and a request takes `cost`.
 */

/** One bucket a request draws from. A cost above the capacity passes when the bucket is full. */
export interface Bucket {
  readonly key: string
  readonly capacity: number
  readonly cost: number
}

/** Draw from every bucket, or from none: each must hold the cost, and the budget must not be spent. */
export interface ReserveRequest {
  /** Milliseconds since the epoch, on the gateway's clock. */
  readonly now: number
  readonly buckets: readonly Bucket[]
  /** The month's spend: refused once it reaches `limit`; a drawn request adds its estimated `cost`. */
  readonly budget?: { readonly key: string; readonly limit: number; readonly cost: number }
}

/** What the buckets hold after the request (drawn or not), and what the month's budget has spent. */
export interface Reserved {
  /** `ok`: drawn; `limited`: a bucket lacks the cost (nothing drawn); `spent`: the budget is used up. */
  readonly result: 'ok' | 'limited' | 'spent'
  /** Each bucket's tokens after the request, in `buckets` order (may be below 0 after a settle). */
  readonly tokens: readonly number[]
  readonly spent: number
  /** The first bucket that lacked the cost (`limited`), else -1. */
  readonly limitedBy: number
}

/** After answers: put back (or take more of) what their estimates got wrong, and add their cost to the budgets. */
export interface SettleRequest {
  readonly now: number
  /** `delta`: actual minus reserved tokens (negative puts tokens back). */
  readonly buckets: readonly { readonly key: string; readonly capacity: number; readonly delta: number }[]
  readonly budgets: readonly { readonly key: string; readonly usd: number }[]
}

export interface LimitStore {
  /** `memory` or `redis`, for logs and metrics. */
  readonly kind: string
  reserve(request: ReserveRequest): Promise<Reserved>
  settle(request: SettleRequest): Promise<void>
  /** What each bucket holds at `now`, drawing nothing. */
  peek(now: number, buckets: readonly { readonly key: string; readonly capacity: number }[]): Promise<number[]>
  /** The shared "expose experimental models" switch; undefined when never set. */
  getSwitch(): Promise<boolean | undefined>
  setSwitch(value: boolean): Promise<void>
  /** Calls `listener` when another replica (or this one) sets the switch. */
  onSwitch(listener: (value: boolean) => void): void
  /** Tells every replica that the deployment `key` cools down until `until` (ms since the epoch). */
  cool(key: string, until: number): Promise<void>
  /** Calls `listener` with each cooldown any replica starts, and those still running when the store connects. */
  onCool(listener: (key: string, until: number) => void): void
  close(): Promise<void>
}

/** A bucket's tokens at `now`: what it held at `ts`, refilled at `capacity` per minute, up to `capacity`. */
export function refilled(tokens: number, ts: number, capacity: number, now: number): number {
  return now > ts ? Math.min(capacity, tokens + ((now - ts) * capacity) / 60_000) : tokens
}

/** The limits' store of one process: the embedded default, right for a single instance. */
export class MemoryStore implements LimitStore {
  readonly kind = 'memory'
  readonly #buckets = new Map<string, { tokens: number; ts: number }>()
  readonly #spent = new Map<string, number>()
  #switch: boolean | undefined
  readonly #listeners: ((value: boolean) => void)[] = []

  async reserve(request: ReserveRequest): Promise<Reserved> {
    const now = request.now
    const tokens = request.buckets.map((b) => this.#tokens(b.key, b.capacity, now))
    const spent = request.budget ? (this.#spent.get(request.budget.key) ?? 0) : 0
    const limitedBy = request.buckets.findIndex((b, i) => tokens[i]! < Math.min(b.cost, b.capacity))
    let result: Reserved['result'] = limitedBy < 0 ? 'ok' : 'limited'
    if (request.budget && spent >= request.budget.limit) result = 'spent'
    request.buckets.forEach((b, i) => {
      if (result === 'ok') tokens[i] = tokens[i]! - b.cost
      this.#buckets.set(b.key, { tokens: tokens[i]!, ts: Math.max(now, this.#buckets.get(b.key)?.ts ?? now) })
    })
    if (result === 'ok' && request.budget) this.#spent.set(request.budget.key, spent + request.budget.cost)
    return { result, tokens, spent, limitedBy: result === 'limited' ? limitedBy : -1 }
  }

  async settle(request: SettleRequest): Promise<void> {
    for (const b of request.buckets) {
      const tokens = Math.min(b.capacity, this.#tokens(b.key, b.capacity, request.now) - b.delta)
      this.#buckets.set(b.key, { tokens, ts: Math.max(request.now, this.#buckets.get(b.key)?.ts ?? request.now) })
    }
    for (const b of request.budgets) this.#spent.set(b.key, (this.#spent.get(b.key) ?? 0) + b.usd)
  }

  async peek(now: number, buckets: readonly { key: string; capacity: number }[]): Promise<number[]> {
    return buckets.map((b) => this.#tokens(b.key, b.capacity, now))
  }

  async getSwitch(): Promise<boolean | undefined> {
    return this.#switch
  }

  async setSwitch(value: boolean): Promise<void> {
    this.#switch = value
    for (const listener of this.#listeners) listener(value)
  }

  onSwitch(listener: (value: boolean) => void): void {
    this.#listeners.push(listener)
  }

  // One process: its cooldowns are already where they are read.
  async cool(): Promise<void> {}

  onCool(): void {}

  async close(): Promise<void> {}

  #tokens(key: string, capacity: number, now: number): number {
    const b = this.#buckets.get(key)
    return b ? refilled(b.tokens, b.ts, capacity, now) : capacity
  }
}
