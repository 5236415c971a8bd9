// The recent window of a model's latencies, for the dashboard's percentiles: the samples of the
// last five minutes (at most 1,000 per model), kept in arrival order.

const WINDOW_MS = 5 * 60_000
const MAX_SAMPLES = 1000

/** One answered call: seconds to the whole answer, and to its first event for a stream. */
export interface Sample {
  readonly at: number
  readonly seconds: number
  readonly firstToken?: number
}

export class Recent {
  readonly #samples = new Map<string, Sample[]>()

  add(model: string, sample: Sample): void {
    let list = this.#samples.get(model)
    if (!list) this.#samples.set(model, (list = []))
    // Trimmed to the newest MAX_SAMPLES once twice as many came: a shift per sample would move
    // the whole list on every call.
    if (list.push(sample) >= 2 * MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES)
  }

  /** Per model with samples in the window ending at `now`: how many, and p50/p95 of the latency and of the time to first token (streams only; absent without one). */
  percentiles(now: number, only?: (model: string) => boolean) {
    const out: Record<string, { samples: number; p50_seconds: number; p95_seconds: number; ttft_p50_seconds?: number; ttft_p95_seconds?: number }> = {}
    for (const [model, list] of [...this.#samples].sort(([a], [b]) => a.localeCompare(b))) {
      if (list.length > MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES)
      const start = list.findIndex((s) => s.at > now - WINDOW_MS)
      if (start === -1) list.length = 0
      else if (start > 0) list.splice(0, start)
      if (!list.length || (only && !only(model))) continue
      const seconds = list.map((s) => s.seconds)
      const first = list.flatMap((s) => (s.firstToken === undefined ? [] : [s.firstToken]))
      out[model] = {
        samples: list.length,
        p50_seconds: _quantile(seconds, 0.5),
        p95_seconds: _quantile(seconds, 0.95),
        ...(first.length && { ttft_p50_seconds: _quantile(first, 0.5), ttft_p95_seconds: _quantile(first, 0.95) }),
      }
    }
    return out
  }
}

// The nearest-rank quantile: the smallest value with at least q of the values at or below it.
function _quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!
}
