import { httpError } from '../errors.ts'

/** One server-sent event: its `event` name (if any) and its data lines joined by newlines. */
export interface SseEvent {
  readonly event?: string
  readonly data: string
  /** Complete events as they came, passed on untouched (then `data` is ''): the pass-through's regions. */
  readonly raw?: Uint8Array
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
  #size = 0 // of #data, so that an event of many lines is held to the same limit as one line
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
      this.#size = 0
      this.#event = undefined
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') {
      this.#size += value.length + 1
      if (this.#size > LineTooLongError.LIMIT) throw new LineTooLongError(`an event longer than ${LineTooLongError.LIMIT} bytes`)
      this.#data.push(value)
    }
    else if (field === 'event') this.#event = value
  }
}

/** A line or event longer than any stream we proxy should carry (16 MiB): the stream is cut off. */
export class LineTooLongError extends Error {
  static readonly LIMIT = 16 * 1024 * 1024
}

/**
 * Splits text arriving in chunks into lines (CR, LF or CRLF), safe at any chunk boundary. Each
 * chunk is scanned once and the unfinished line is only appended to, so a long line costs time
 * in proportion to its length. Throws LineTooLongError past 16 MiB.
 */
export class LineSplitter {
  #decoder: InstanceType<typeof TextDecoder> | undefined // made for the first bytes (strings need none)
  #partial = '' // the line not ended yet
  #skipLf = false // the previous chunk ended in CR: a leading LF belongs to it

  push(chunk: Uint8Array | string): string[] {
    const text = typeof chunk === 'string' ? chunk : (this.#decoder ??= new TextDecoder()).decode(chunk, { stream: true })
    let start = this.#skipLf && text.startsWith('\n') ? 1 : 0
    this.#skipLf = false
    const out: string[] = []
    for (let lf = text.indexOf('\n', start), cr = text.indexOf('\r', start); lf !== -1 || cr !== -1;) {
      const end = cr === -1 || (lf !== -1 && lf < cr) ? lf : cr
      out.push(this.#partial + text.slice(start, end))
      this.#partial = ''
      start = end + 1
      if (end === cr) {
        if (start === text.length) this.#skipLf = true
        else if (text.charCodeAt(start) === 10) start++
        cr = text.indexOf('\r', start)
      }
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start)
    }
    if (start < text.length) this.#partial += text.slice(start)
    if (this.#partial.length > LineTooLongError.LIMIT) throw new LineTooLongError(`a line longer than ${LineTooLongError.LIMIT} bytes`)
    return out
  }

  end(): string[] {
    const rest = this.#partial + (this.#decoder?.decode() ?? '')
    this.#partial = ''
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

/** What the client hears of a stream that could not be read: an event that is not JSON, or one too long. */
export function unreadable(error: unknown, upstream: string): unknown {
  if (error instanceof SyntaxError) return httpError(502, `${upstream} sent an event that is not JSON`, { code: 'upstream_invalid' })
  if (error instanceof LineTooLongError) return httpError(502, `${upstream} sent ${error.message}`, { code: 'upstream_invalid' })
  return error
}

/** A stream that ended before the event that completes it (`end`): an error event for the client, counted as truncated. */
export function streamTruncated(upstream: string, end: string) {
  return httpError(502, `${upstream} ended the stream before ${end}`, { code: 'upstream_truncated' })
}

/** `batches` with every untouched region parsed into its events, for a reader of events. */
export async function* expanded(batches: AsyncIterable<SseEvent[]>): AsyncGenerator<SseEvent[]> {
  for await (const batch of batches) yield batch.flatMap((e) => (e.raw ? new SseParser().push(Buffer.from(e.raw.buffer, e.raw.byteOffset, e.raw.byteLength).toString()) : [e]))
}

/** A batch as its bytes on the wire: untouched regions as they came, other events written anew. */
export function sseBytes(batch: readonly SseEvent[]): Uint8Array {
  if (batch.length === 1 && batch[0]!.raw) return batch[0]!.raw
  return Buffer.concat(batch.map((e) => e.raw ?? Buffer.from(sseText(e))))
}
