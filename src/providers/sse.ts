/** One server-sent event: its `event` name (if any) and its data lines joined by newlines. */
export interface SseEvent {
  readonly event?: string
  readonly data: string
}

/**
 * An incremental parser for text/event-stream, safe at any chunk boundary: mid-line, mid-UTF-8
 * character, and between the CR and LF of a CRLF. Follows the WHATWG rules the OpenAI and
 * Anthropic streams use: `data:` lines accumulate, `event:` names the event, `:` lines are
 * comments, a blank line dispatches; `id:` and `retry:` are ignored. `push` returns the events
 * a chunk completes, so that a whole chunk's events can travel on together.
 */
export class SseParser {
  readonly #lines = new LineSplitter()
  #data: string[] = []
  #event: string | undefined

  push(chunk: Uint8Array | string): SseEvent[] {
    const out: SseEvent[] = []
    for (const line of this.#lines.push(chunk)) this.#line(line, out)
    return out
  }

  /** The events left when the stream ends (a last event without its blank line). */
  end(): SseEvent[] {
    const out: SseEvent[] = []
    for (const line of this.#lines.end()) this.#line(line, out)
    this.#line('', out)
    return out
  }

  #line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.#data.length) out.push(this.#event === undefined ? { data: this.#data.join('\n') } : { event: this.#event, data: this.#data.join('\n') })
      this.#data = []
      this.#event = undefined
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') this.#data.push(value)
    else if (field === 'event') this.#event = value
  }
}

/** A line longer than any stream we proxy should carry: the stream is cut off. */
export class LineTooLongError extends Error {
  static readonly LIMIT = 16 * 1024 * 1024
}

/**
 * Splits text arriving in chunks into lines (CR, LF or CRLF), safe at any chunk boundary; each
 * chunk is scanned once, however long the line it continues. Throws LineTooLongError past 16 MiB.
 */
export class LineSplitter {
  readonly #decoder = new TextDecoder()
  #buffer = ''
  #skipLf = false // the previous chunk ended in CR: a leading LF belongs to it

  push(chunk: Uint8Array | string): string[] {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true })
    if (this.#skipLf && text.startsWith('\n')) text = text.slice(1)
    this.#skipLf = false
    const buffer = this.#buffer + text
    const out: string[] = []
    let start = 0
    // The buffer held no line end: only the new text needs scanning.
    for (let i = this.#buffer.length; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      out.push(buffer.slice(start, i))
      if (c === 13) {
        if (i + 1 === buffer.length) this.#skipLf = true
        else if (buffer.charCodeAt(i + 1) === 10) i++
      }
      start = i + 1
    }
    this.#buffer = buffer.slice(start)
    if (this.#buffer.length > LineTooLongError.LIMIT) throw new LineTooLongError('line too long')
    return out
  }

  end(): string[] {
    const rest = this.#buffer + this.#decoder.decode()
    this.#buffer = ''
    return rest ? [rest] : []
  }
}

/** An SSE event as its bytes on the wire. */
export function sseText(e: SseEvent): string {
  const data = e.data.includes('\n') ? e.data.split('\n').join('\ndata: ') : e.data
  return e.event === undefined ? `data: ${data}\n\n` : `event: ${e.event}\ndata: ${data}\n\n`
}

/** The events of a stream of chunks, one batch per chunk (empty batches skipped). */
export async function* sseBatches(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent[]> {
  const parser = new SseParser()
  for await (const chunk of chunks) {
    const events = parser.push(chunk)
    if (events.length) yield events
  }
  const rest = parser.end()
  if (rest.length) yield rest
}

/** The events of a stream of chunks, one at a time. */
export async function* sseEvents(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  for await (const batch of sseBatches(chunks)) yield* batch
}

/** The lines of a stream of chunks. */
export async function* lines(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const splitter = new LineSplitter()
  for await (const chunk of chunks) yield* splitter.push(chunk)
  yield* splitter.end()
}
