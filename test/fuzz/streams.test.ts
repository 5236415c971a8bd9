// Any chunking of a valid stream gives the same events: the SSE reader, the Anthropic
// translator, the OpenAI pass-through, and the Ollama NDJSON a client reads.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { Ollama } from 'ollama'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { message } from '../../src/mock/anthropic.ts'
import { chatCompletion } from '../../src/mock/openai.ts'
import { toChunks } from '../../src/protocols/anthropic.ts'
import { sseBatches } from '../../src/protocols/sse.ts'
import type { SseEvent } from '../../src/protocols/sse.ts'
import { ACME_KEY, CLAUDE_KEY, NOW, passThrough, passThroughFed, proxyCatalog, proxyServer } from '../_setup.ts'
import { body, collect, cuts, params, pieces, words } from './_fuzz.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

// Text for one line: anything but CR and LF.
const lineText = fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, ''))
const sseEvent = fc.record({ event: fc.option(lineText, { nil: undefined }), data: fc.array(lineText, { minLength: 1, maxLength: 3 }), comment: fc.option(lineText, { nil: undefined }), id: fc.option(lineText, { nil: undefined }) })

describe('the SSE reader', () => {
  it('reads every event of any valid stream, with any line ends, cut anywhere (mid-line, mid-character, mid-CRLF)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(sseEvent, { maxLength: 8 }), fc.constantFrom('\n', '\r\n', '\r'), fc.nat(), async (events, eol, seed) => {
        const text = events.map((e) => [e.comment !== undefined && `:${e.comment}`, e.event !== undefined && `event: ${e.event}`, e.id !== undefined && `id: ${e.id}`, ...e.data.map((d) => `data: ${d}`), ''].filter((l) => l !== false).join(eol) + eol).join('')
        const bytes = encoder.encode(text)
        const expected = events.map((e) => (e.event === undefined ? { data: e.data.join('\n') } : { event: e.event, data: e.data.join('\n') }))
        const at = fc.sample(cuts(bytes.length), { seed, numRuns: 1 })[0]!
        expect((await collect(sseBatches(body(pieces(bytes, at))))).flat()).toEqual(expected)
      }),
      params(300),
    )
  })
})

const gw = createApp({ catalog: proxyCatalog, env: { ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY }, now: () => NOW, log: () => {} }).gateway
const chatModel = gw.catalog.models.chat!
const claude = gw.upstreams.claude!
const acme = gw.upstreams.acme!

// A prompt, optionally naming tools for the mock to call.
const prompts = fc.record({ words, tools: fc.subarray(['lookup', 'search'], { maxLength: 2 }) })
const toolDefs = (names: readonly string[]) => names.map((name) => ({ name, description: name, input_schema: { type: 'object' } }))

describe('the Anthropic stream translator', () => {
  it('gives the same chat chunks whatever the chunking of the Messages stream', async () => {
    await fc.assert(
      fc.asyncProperty(prompts, fc.nat(), async ({ words, tools }, seed) => {
        const prompt = [...words, ...tools].join(' ')
        const stream = encoder.encode(message({ model: 'm', max_tokens: 100, tools: toolDefs(tools), messages: [{ role: 'user', content: prompt }] }).chunks.join(''))
        const whole = (await collect(toChunks(body([stream]), claude, 'claude', 1))).flat()
        const at = fc.sample(cuts(stream.length), { seed, numRuns: 1 })[0]!
        const cut = (await collect(toChunks(body(pieces(stream, at)), claude, 'claude', 1))).flat()
        expect(cut).toEqual(whole)
        expect(whole.at(-1)).toEqual({ data: '[DONE]' })
        expect(_content(whole)).toBe(tools.length ? '' : `You said: ${words.join(' ')}`)
      }),
      params(200),
    )
  })
})

describe('the OpenAI pass-through', () => {
  it('sends on exactly the bytes it got, whatever the chunking (usage asked for), or them less the usage chunk, pulled or pushed', async () => {
    await fc.assert(
      fc.asyncProperty(words, fc.boolean(), fc.nat(), async (words, includeUsage, seed) => {
        const chunks = chatCompletion({ model: 'upstream-chat', stream_options: { include_usage: true }, messages: [{ role: 'user', content: words.join(' ') }] }).chunks
        const stream = encoder.encode(chunks.join(''))
        const at = fc.sample(cuts(stream.length), { seed, numRuns: 1 })[0]!
        const out = await collect(passThrough(gw.stats, chatModel, body(pieces(stream, at)), includeUsage, acme, new AbortController().signal))
        const expected = includeUsage ? chunks : chunks.filter((c) => !c.includes('"usage"'))
        expect(decoder.decode(Buffer.concat(out))).toBe(expected.join(''))
        // Pushed (the completion hot path's form), the same bytes.
        const fed = await passThroughFed(gw.stats, chatModel, pieces(stream, at), includeUsage, acme, new AbortController().signal)
        expect(decoder.decode(Buffer.concat(fed))).toBe(expected.join(''))
      }),
      params(300),
    )
  })
})

describe('Ollama NDJSON, read by the official ollama client', () => {
  // An upstream that writes the planned stream in the planned pieces, pausing between them so
  // that they arrive apart.
  let plan: Uint8Array[] = []
  const upstream = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const piece of plan) {
      res.write(piece)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    res.end()
  })
  let gateway: Awaited<ReturnType<typeof proxyServer>>
  beforeAll(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    gateway = await proxyServer({ url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` })
  })
  afterAll(async () => {
    await gateway.close()
    upstream.closeAllConnections()
    upstream.close()
  })

  it('gets the same parts whatever the chunking of the upstream stream', async () => {
    const ollama = new Ollama({ host: gateway.url })
    await fc.assert(
      fc.asyncProperty(words, fc.nat(), async (words, seed) => {
        const messages = [{ role: 'user', content: words.join(' ') }]
        const stream = encoder.encode(chatCompletion({ model: 'upstream-chat', stream_options: { include_usage: true }, messages }).chunks.join(''))
        const read = async (chunks: Uint8Array[]) => {
          plan = chunks
          const parts = []
          // Durations are measured, so they differ from run to run; everything else must not.
          for await (const { total_duration, load_duration, prompt_eval_duration, eval_duration, ...part } of await ollama.chat({ model: 'chat', messages, stream: true })) parts.push(part)
          return parts
        }
        const whole = await read([stream])
        expect(whole.map((p) => p.message.content).join('')).toBe(`You said: ${words.join(' ')}`)
        expect(whole.at(-1)).toMatchObject({ done: true, done_reason: 'stop', eval_count: words.length + 2 })
        expect(await read(pieces(stream, fc.sample(cuts(stream.length), { seed, numRuns: 1 })[0]!))).toEqual(whole)
      }),
      params(25),
    )
  }, 600_000)
})

function _content(events: readonly SseEvent[]): string {
  return events
    .filter((e) => e.data !== '[DONE]')
    .map((e) => (JSON.parse(e.data) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
    .join('')
}
