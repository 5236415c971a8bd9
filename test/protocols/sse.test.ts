import { describe, expect, it } from 'vitest'
import { LineTooLongError, lines, sseEvents, sseText } from '../../src/protocols/sse.ts'

const encoder = new TextEncoder()

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

// Every split of `bytes` into two chunks, and into single bytes.
function* splits(bytes: Uint8Array): Generator<Uint8Array[]> {
  for (let i = 0; i <= bytes.length; i++) yield [bytes.slice(0, i), bytes.slice(i)]
  yield [...bytes].map((b) => Uint8Array.of(b))
}

async function* from(chunks: Uint8Array[]) {
  for (const c of chunks) yield c
}

// A recorded-style OpenAI stream with CRLF, a comment, an event name, multi-byte characters
// (é, 🙂) and a multi-line data field.
const stream = ': keep-alive\r\n\r\nevent: message\r\ndata: {"delta":"h\u00e9llo \ud83d\ude42"}\r\n\r\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n'
const expected = [{ event: 'message', data: '{"delta":"h\u00e9llo \ud83d\ude42"}' }, { data: 'line one\nline two' }, { data: '[DONE]' }]

describe('sseEvents', () => {
  it('gives the same events at every chunk boundary', async () => {
    const bytes = encoder.encode(stream)
    for (const chunks of splits(bytes)) expect(await collect(sseEvents(from(chunks)))).toEqual(expected)
  })

  it('dispatches a last event without a trailing blank line', async () => {
    expect(await collect(sseEvents(from([encoder.encode('data: end')])))).toEqual([{ data: 'end' }])
  })

  it('ignores fields it does not know, and a field without a colon', async () => {
    expect(await collect(sseEvents(from([encoder.encode('id: 7\nretry: 10\ndata\ndata:x\n\n')])))).toEqual([{ data: '\nx' }])
  })
})

describe('lines', () => {
  it('keep a long line whole across many chunks, and refuse one past 16 MiB', async () => {
    const line = 'x'.repeat(100_000)
    async function* pieces(text: string, size: number) {
      for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size)
    }
    expect(await collect(lines(pieces(`${line}\nend`, 1000)))).toEqual([line, 'end'])
    await expect(collect(lines(pieces('y'.repeat(17 * 1024 * 1024), 1024 * 1024)))).rejects.toBeInstanceOf(LineTooLongError)
  })

  it('refuse an event of many lines past 16 MiB in all, as they would one line', async () => {
    const line = `data: ${'z'.repeat(1024 * 1024)}\n`
    await expect(collect(sseEvents(from([encoder.encode(line.repeat(17))])))).rejects.toThrow('an event longer than 16777216 bytes')
    expect((await collect(sseEvents(from([encoder.encode(`${line.repeat(15)}\n`)])))).length).toBe(1)
  })

  it('split CR, LF and CRLF alike, at any boundary', async () => {
    const bytes = encoder.encode('a\r\nb\rc\nd')
    for (const chunks of splits(bytes)) expect(await collect(lines(from(chunks)))).toEqual(['a', 'b', 'c', 'd'])
  })

})

describe('sseText', () => {
  it('writes events that parse back to themselves, multi-line data and names included', async () => {
    const events = [{ data: '{"a":1}' }, { event: 'message_start', data: 'one\ntwo\n\nfour' }, { data: '[DONE]' }]
    const text = events.map(sseText).join('')
    expect(text.startsWith('data: {"a":1}\n\nevent: message_start\ndata: one\ndata: two\ndata: \ndata: four\n\n')).toBe(true)
    expect(await collect(sseEvents(from([encoder.encode(text)])))).toEqual(events)
  })
})
