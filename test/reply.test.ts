import type { H3Event } from 'h3'
import { describe, expect, it } from 'vitest'
import { streamReply } from '../src/reply.ts'
import { until } from './_setup.ts'

const SSE = { contentType: 'text/event-stream', error: (e: { message: string }) => `data: ${JSON.stringify({ error: e.message })}\n\n` }

describe('a streamed reply read as a web stream (app.fetch, no socket)', () => {
  it('ends its chunks when cancelled before its first read, however many the source could still give', async () => {
    const said: string[] = []
    let pulled = 0
    const streams = new Set<{ end(reason: string): void }>()
    const event = { context: { headers: {}, streams, streamEnded: () => said.push('ended') } } as unknown as H3Event
    const endless = async function* () {
      try {
        for (;;) {
          pulled++
          yield 'x'.repeat(1000)
          await new Promise((resolve) => setImmediate(resolve))
        }
      } finally {
        said.push('chunks returned')
      }
    }
    const res = streamReply(event, endless(), SSE)
    await res.body!.cancel()
    await until(() => said.includes('ended'), 'the stream to end', 2000)
    expect(said).toEqual(['chunks returned', 'ended'])
    expect(streams.size).toBe(0)
    expect(pulled).toBeLessThan(5)
  })

  it('delivers every chunk and then ends, once', async () => {
    const said: string[] = []
    const event = { context: { headers: {}, streams: new Set(), streamEnded: () => said.push('ended') } } as unknown as H3Event
    const res = streamReply(event, (async function* () { yield 'data: 1\n\n'; yield new Uint8Array(0); yield Buffer.from('data: 2\n\n') })(), SSE)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(await res.text()).toBe('data: 1\n\ndata: 2\n\n')
    await until(() => said.length > 0, 'the stream to end', 2000)
    expect(said).toEqual(['ended'])
  })
})
