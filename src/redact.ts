import type { SseEvent } from './protocols/sse.ts'

/** What a secret becomes. */
export const REDACTED = '[redacted]'

// JSON may spell any character as \uXXXX, and `/` as \/: an upstream could hide a key from a
// plain search so.
const ESCAPE = '\\u'
const SLASH = '\\/'

/**
 * Takes secrets out of text and bytes on their way to a client or a log: each secret, written
 * plainly or with JSON `\uXXXX` escapes, becomes `[redacted]`. Bytes without a secret (the
 * common case) are returned as they came, unchanged and uncopied.
 */
export class Redactor {
  // Longest first, so that a secret that holds another is taken out whole.
  readonly #secrets: readonly string[]
  // Each secret's first bytes (at most 6), once each: what bytes holding it plainly must hold. A
  // needle of 7 bytes or more costs Node a search table per call, more than the search itself.
  readonly #starts: readonly Buffer[]
  // What marks text that may hold a secret in escaped spelling.
  readonly #escapes: readonly string[]
  readonly #escapeBytes: readonly Buffer[]
  #escaped: RegExp | undefined

  constructor(secrets: Iterable<string | undefined>) {
    this.#secrets = [...new Set([...secrets].filter((s): s is string => !!s))].sort((a, b) => b.length - a.length)
    this.#starts = [...new Set(this.#secrets.map((s) => Buffer.from(s).subarray(0, 6).toString('latin1')))].map((s) => Buffer.from(s, 'latin1'))
    this.#escapes = this.#secrets.some((s) => s.includes('/')) ? [ESCAPE, SLASH] : [ESCAPE]
    this.#escapeBytes = this.#escapes.map((e) => Buffer.from(e))
  }

  /** `text` with every secret taken out. */
  text(text: string): string {
    if (!this.#secrets.length) return text
    let out = text
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.replaceAll(secret, REDACTED)
    for (const e of this.#escapes) if (out.includes(e)) return out.replace((this.#escaped ??= _escapedForms(this.#secrets)), REDACTED)
    return out
  }

  /** `chunk` with every secret taken out; `chunk` itself when it holds none. Chunks are whole events or lines, never cut mid-character. */
  bytes(chunk: Uint8Array): Uint8Array {
    if (!this.#secrets.length) return chunk
    const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (!this.#escapeBytes.some((e) => buffer.includes(e)) && !this.#starts.some((n) => buffer.includes(n))) return chunk
    const text = buffer.toString('utf8')
    const out = this.text(text)
    return out === text ? chunk : Buffer.from(out)
  }

  /** A stream event with every secret taken out of its name and data. */
  event(e: SseEvent): SseEvent {
    const data = this.text(e.data)
    const name = e.event === undefined ? undefined : this.text(e.event)
    if (data === e.data && name === e.event) return e
    return name === undefined ? { data } : { event: name, data }
  }

  /** A stream's batch, redacted: events (names too) and untouched regions' bytes. */
  batch(batch: SseEvent[]): SseEvent[] {
    return this.#secrets.length ? batch.map((e) => this.#batchEvent(e)) : batch
  }

  #batchEvent(e: SseEvent): SseEvent {
    if (!e.raw) return this.event(e)
    const raw = this.bytes(e.raw)
    return raw === e.raw ? e : { data: '', raw }
  }
}

// Each secret with any of its characters written as a JSON escape (\uXXXX in either case of hex,
// or \/), starting where an escape can start: not after a backslash that is itself escaped text.
function _escapedForms(secrets: readonly string[]): RegExp {
  const forms = secrets.map((s) => [...s].map((c) => {
    const hex = c.charCodeAt(0).toString(16).padStart(4, '0')
    const slash = c === '/' ? '|\\\\/' : ''
    return `(?:${c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')}|\\\\u${hex.replace(/[a-f]/g, (h) => `[${h}${h.toUpperCase()}]`)}${slash})`
  }).join(''))
  return new RegExp(`(?<=(?:^|[^\\\\])(?:\\\\\\\\)*)(?:${forms.join('|')})`, 'g')
}
