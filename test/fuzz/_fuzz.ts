// How the property tests run: a fixed seed (the same cases on every run, so a failure is
// reproducible), a modest number of runs in the unit suite, FUZZ_RUNS times more in
// `npm run test:reliability`; FUZZ_SEED replays another seed.
import fc from 'fast-check'

const SEED = Number(process.env.FUZZ_SEED ?? 20261121)
const SCALE = Number(process.env.FUZZ_RUNS ?? 1)

/** fast-check parameters for a property that runs `runs` times in the unit suite. */
export function params(runs: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(runs * SCALE)), endOnFailure: true }
}

/** Cut points for `length` bytes: the pieces any chunking might deliver. */
export const cuts = (length: number) => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: Math.min(40, length) }).map((c) => c.sort((a, b) => a - b))

/** `bytes` cut at `at`. */
export function pieces(bytes: Uint8Array, at: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = []
  let start = 0
  for (const end of [...at.filter((c) => c < bytes.length), bytes.length]) {
    if (end > start) out.push(bytes.slice(start, end))
    start = end
  }
  return out
}

/** An upstream body made of `chunks`, as undici hands one over. */
export function body(chunks: readonly Uint8Array[]): AsyncIterable<Uint8Array> & { destroy(): void } {
  return {
    async *[Symbol.asyncIterator]() {
      yield* chunks
    },
    destroy() {},
  }
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

/** Words of any Unicode (no whitespace), for prompts. */
export const words = fc.array(fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).map((w) => w.replace(/\s/g, '') || 'x'), { minLength: 1, maxLength: 12 })
