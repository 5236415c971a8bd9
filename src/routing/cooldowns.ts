import type { Provider } from '../catalog/types.ts'

// A deployment cools down after this many failed calls in a row, for this long (the schema's defaults).
const DEFAULT_AFTER_FAILURES = 3
const DEFAULT_FOR_MS = 30_000

/**
 * Which deployments are cooling down: one whose calls failed `after_failures` times in a row
 * (its provider's `cooldown`) is skipped for `for_ms`. Kept per process; `share` tells the
 * other replicas (through the shared store) and `heard` takes what they tell.
 */
export class Cooldowns {
  readonly #now: () => Date
  readonly #failures = new Map<string, number>()
  readonly #until = new Map<string, number>()
  /** Tells the other replicas of a cooldown that started here (through the shared store). */
  share: ((key: string, until: number) => void) | undefined

  constructor(now: () => Date) {
    this.#now = now
  }

  /** Whether the deployment `key` is cooling down now. */
  cooling(key: string): boolean {
    const until = this.#until.get(key)
    return until !== undefined && until > this.#now().getTime()
  }

  /** Counts a failed call of `key`; returns true when it starts a cooldown. */
  failed(key: string, provider: Provider): boolean {
    const failures = (this.#failures.get(key) ?? 0) + 1
    if (failures < (provider.cooldown?.after_failures ?? DEFAULT_AFTER_FAILURES)) {
      this.#failures.set(key, failures)
      return false
    }
    this.#failures.delete(key) // after the cooldown, as many failures again start the next one
    const until = this.#now().getTime() + (provider.cooldown?.for_ms ?? DEFAULT_FOR_MS)
    this.#until.set(key, until)
    this.share?.(key, until)
    return true
  }

  /** An answered call: the failures in a row start again from none. */
  succeeded(key: string): void {
    if (this.#failures.size) this.#failures.delete(key)
  }

  /** A cooldown another replica started. */
  heard(key: string, until: number): void {
    if (until > (this.#until.get(key) ?? 0)) this.#until.set(key, until)
  }
}
