/**
 * A stream pushed as it comes: the completion hot path's form of an async generator, with no
 * promise and no generator step per value (an OpenAI stream passed through goes from the upstream
 * body to the client in plain calls). `start` starts it once, with its sink, and resolves when
 * its own cleanup has run, however it ended; `pause` and `resume` hold it back while the reader
 * cannot take more; `cancel` ends it early (the reader left): its source is released, its cleanup
 * runs, and the sink hears nothing more.
 */
export interface Feed<T> {
  start(sink: Sink<T>): Promise<void>
  pause(): void
  resume(): void
  cancel(): void
}

/** Where a feed's values go: each value, then `done` or `fail` once. */
export interface Sink<T> {
  next(value: T): void
  done(): void
  fail(error: unknown): void
}

/** Whether `chunks` is a feed rather than an async generator. */
export function isFeed<T>(chunks: AsyncGenerator<T> | Feed<T>): chunks is Feed<T> {
  return !(Symbol.asyncIterator in chunks)
}

/**
 * `chunks` as a feed: pulled one value at a time, while not paused. Cancelled, the generator is
 * returned (its `finally` runs) once the step it is in has ended.
 */
export function feedOf<T>(chunks: AsyncGenerator<T>): Feed<T> {
  let paused = false
  let cancelled: Promise<unknown> | undefined
  let wake: (() => void) | undefined
  return {
    async start(sink) {
      try {
        while (!cancelled) {
          const { value, done } = await chunks.next()
          if (cancelled) break
          if (done) return sink.done()
          sink.next(value)
          while (paused && !cancelled) await new Promise<void>((resolve) => (wake = resolve))
        }
      } catch (error) {
        if (!cancelled) return sink.fail(error)
      }
      await cancelled
    },
    pause: () => void (paused = true),
    resume() {
      paused = false
      wake?.()
    },
    cancel() {
      cancelled ??= chunks.return(undefined).catch(() => {})
      wake?.()
    },
  }
}
