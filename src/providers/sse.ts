/** One server-sent event: its `event` name (if any) and its data lines joined by newlines. */
export interface SseEvent {
  readonly event?: string
  readonly data: string
}

/**
 * Splits a byte stream into lines, safe at any chunk boundary: mid-line, mid-UTF-8 character,
 * and between the CR and LF of a CRLF. Yields each line without its terminator; a last line
 * without one is yielded too.
 */
export async function* lines(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffer = ''
  let skipLf = false // the previous chunk ended in CR: a leading LF belongs to it
  for await (const chunk of chunks) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
    if (skipLf && text.startsWith('\n')) text = text.slice(1)
    skipLf = false
    buffer += text
    let start = 0
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer[i]
      if (c !== '\n' && c !== '\r') continue
      yield buffer.slice(start, i)
      if (c === '\r') {
        if (i + 1 < buffer.length) {
          if (buffer[i + 1] === '\n') i++
        } else skipLf = true
      }
      start = i + 1
    }
    buffer = buffer.slice(start)
  }
  buffer += decoder.decode()
  if (buffer) yield buffer
}

/**
 * Parses a text/event-stream body into events, per the WHATWG rules the OpenAI and Anthropic
 * streams follow: `data:` lines accumulate, `event:` names the event, `:` lines are comments,
 * a blank line dispatches. Other fields (`id:`, `retry:`) are ignored.
 */
export async function* sseEvents(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  let data: string[] = []
  let event: string | undefined
  for await (const line of lines(chunks)) {
    if (line === '') {
      if (data.length) yield event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') }
      data = []
      event = undefined
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') data.push(value)
    else if (field === 'event') event = value
  }
  if (data.length) yield event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') }
}

/** Parses newline-delimited JSON (Ollama's stream), skipping blank lines. */
export async function* ndjson(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<unknown> {
  for await (const line of lines(chunks)) if (line.trim()) yield JSON.parse(line)
}
