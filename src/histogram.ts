// Prometheus histograms, by label set: counts per bucket, sum and count, rendered in the text
// format. The label sets are the caller's to bound (routes, catalog models, providers).

/**
 * Bucket upper bounds, in seconds, chosen for LLM latencies: a listing answers in milliseconds,
 * a first token comes in 0.2 to 5 s, a long completion or a reasoning model takes minutes.
 */
export const SECONDS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const
/** Output tokens per second of a stream: a slow local model writes a few, a fast one hundreds. */
export const TOKENS_PER_SECOND = [1, 5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500] as const

/** One label set's counts: per bucket, their sum and how many. */
export interface Series {
  readonly labels: Readonly<Record<string, string>>
  readonly counts: number[]
  sum: number
  count: number
}

export class Histogram {
  readonly #buckets: readonly number[]
  readonly #series = new Map<string, Series>()

  constructor(buckets: readonly number[]) {
    this.#buckets = buckets
  }

  /** The series of `labels`, made on first use: a caller that counts often may keep it and `add` to it. */
  series(labels: Readonly<Record<string, string>>): Series {
    let key = ''
    for (const name in labels) key += `${labels[name]}\u0000`
    let s = this.#series.get(key)
    if (!s) this.#series.set(key, (s = { labels, counts: this.#buckets.map(() => 0), sum: 0, count: 0 }))
    return s
  }

  observe(labels: Readonly<Record<string, string>>, value: number): void {
    this.add(this.series(labels), value)
  }

  /** Counts `value` in `s` (one of this histogram's series). */
  add(s: Series, value: number): void {
    const buckets = this.#buckets
    let i = 0
    while (i < buckets.length && !(value <= buckets[i]!)) i++ // NaN falls in none
    if (i < buckets.length) s.counts[i]!++
    s.sum += value
    s.count++
  }

  /** The histogram's lines under `name`, `format` writing a label set. */
  lines(name: string, format: (labels: Readonly<Record<string, string>>) => string): string[] {
    const out: string[] = []
    for (const s of this.#series.values()) {
      let cumulative = 0
      this.#buckets.forEach((le, i) => {
        cumulative += s.counts[i]!
        out.push(`${name}_bucket${format({ ...s.labels, le: String(le) })} ${cumulative}`)
      })
      out.push(`${name}_bucket${format({ ...s.labels, le: '+Inf' })} ${s.count}`, `${name}_sum${format(s.labels)} ${s.sum}`, `${name}_count${format(s.labels)} ${s.count}`)
    }
    return out
  }
}
