/** A fault the mock applies to one request (the next one, in the order they were queued). */
export interface Fault {
  /** Answer with this status (and `body` as JSON, or `raw` as it is, and `headers`) instead of a completion. */
  readonly status?: number
  readonly body?: unknown
  readonly raw?: string
  readonly headers?: Record<string, string>
  /** Wait this long before sending headers. */
  readonly delayMs?: number
  /** Send this many stream chunks, then nothing more (the connection stays open). */
  readonly stallAfter?: number
  /** Send this many stream chunks, then reset the connection. */
  readonly resetAfter?: number
  /** Send this many stream chunks, then `text` as it is, and end the stream. */
  readonly inject?: { readonly after: number; readonly text: string }
  /** Reset the connection as the request arrives, without an answer. */
  readonly drop?: boolean
  /** Wait this long before each stream chunk (a slow model). */
  readonly chunkDelayMs?: number
}

/** What the mock saw of a request: for tests that check what reached the upstream. */
export interface Seen {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  /** Set when the connection closed, finished or not. */
  closed?: boolean
  /** When it closed (`performance.now()` of the mock's process). */
  closedAt?: number
  /** Bytes of the answer written to the connection so far (headers included). */
  sent?: () => number
}

/**
 * A stream of `chunks` as an SSE/NDJSON body, applying a fault's stall or reset; `socket`
 * resets the connection. Ends with the chunks unless a fault cuts it short.
 */
export function faultyStream(chunks: readonly string[], fault: Fault | undefined, reset: () => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  let i = 0
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new Uint8Array(0)) // headers go out now, as a real server's do
    },
    async pull(controller) {
      if (fault?.chunkDelayMs) await sleep(fault.chunkDelayMs)
      if (fault?.resetAfter !== undefined && i === fault.resetAfter) {
        await sleep(20) // the chunks sent so far reach the client first
        return reset()
      }
      if (fault?.stallAfter !== undefined && i === fault.stallAfter) return new Promise<void>(() => {}) // never resolves
      if (fault?.inject && i === fault.inject.after) {
        controller.enqueue(encoder.encode(fault.inject.text))
        return controller.close()
      }
      if (i === chunks.length) return controller.close()
      controller.enqueue(encoder.encode(chunks[i++]))
    },
  })
}

/** Waits `ms`, or less if `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })
}
