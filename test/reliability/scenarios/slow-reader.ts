// Slow reader: a client reading 1 KB/s from a fast stream. The gateway holds back rather than
// buffer (the upstream is slowed down: backpressure reaches it), its memory stays bounded, and
// a stream whose upstream then goes quiet is ended by the idle timeout with an error event.
import { request } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { chatCompletion } from '../../../src/mock/openai.ts'
import { readChatStream } from '../client.ts'
import { chat, conclude, MODELS, seenLast, sleep, startGateway, warmUp } from '../harness.ts'
import type { Figures, Scenario } from '../harness.ts'

const IDLE_MS = 3000

export const slowReader: Scenario = async ({ mock, quick }) => {
  const readSeconds = quick ? 5 : 15
  const gw = await startGateway(mock.url, { STREAM_IDLE_TIMEOUT_MS: String(IDLE_MS) })
  const failures: string[] = []
  const url = `${gw.url}/v1/chat/completions`
  await warmUp(gw)
  const before = await gw.memory()

  // 1. A long fast stream (about 40 MB), read at 1 KB/s for a while, then given up. Socket
  // buffers on loopback take several MB; after that the upstream must be held back.
  const body = chat(MODELS.openai, 'big', 200_000, true)
  const total = chatCompletion({ ...body, model: 'x' }).chunks.join('').length
  const big = slowGet(url, body, 1024, readSeconds)
  await sleep(readSeconds * 333)
  const sentEarly = seenLast(mock).sent?.() ?? NaN
  await sleep(readSeconds * 667 - 500)
  const during = await gw.memory()
  const upstreamSent = seenLast(mock).sent?.() ?? NaN
  const first = await big
  if (!(upstreamSent < total / 2)) failures.push(`the upstream wrote ${(upstreamSent / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB to a client that read ${first.read} bytes: no backpressure`)
  if (upstreamSent - sentEarly > 1e6) failures.push(`the upstream kept writing (${((upstreamSent - sentEarly) / 1e6).toFixed(1)} MB in the last two thirds of the read) to a client reading 1 KB/s`)
  const growth = during.heapUsed + during.arrayBuffers - (before.heapUsed + before.arrayBuffers)
  if (growth > 8e6) failures.push(`the gateway's heap and buffers grew ${(growth / 1e6).toFixed(1)} MB while holding one slow stream`)
  if (first.ended) failures.push('the long stream ended while the client was still reading it slowly')

  // 2. A stream the client reads slowly while the upstream goes quiet after 40 chunks: the idle
  // timeout ends it with an error event, after everything the upstream did send.
  mock.fail({ stallAfter: 40 })
  const quiet = await slowGet(url, chat(MODELS.openai, 'quiet', 100, true), 1024, 60)
  const read = readChatStream(quiet.text)
  const endedByTimeout = quiet.ended && read.errors.some((e) => e.includes(`sent nothing for ${IDLE_MS} ms`)) && !read.done
  if (!endedByTimeout) failures.push(`the quiet stream was not ended by the idle timeout: ${quiet.text.slice(-300)}`)
  const wordsBeforeStall = read.content.split(' ').length

  const { figures } = await conclude(gw, mock, before, failures)
  return {
    scenario: 'slow reader (1 KB/s)',
    sent: 3, completed: 1 + (endedByTimeout ? 1 : 0), aborted: 1, lost: endedByTimeout ? 0 : 1,
    ...figures,
    detail: `client read ${(first.read / 1024).toFixed(0)} KB in ${readSeconds} s while the upstream wrote ${(sentEarly / 1e6).toFixed(2)} MB, then ${((upstreamSent - sentEarly) / 1e3).toFixed(0)} KB more, of ${(total / 1e6).toFixed(1)} MB; heap + buffers during ${(growth >= 0 ? '+' : '') + (growth / 1e6).toFixed(1)} MB (RSS ${(during.rss / 1e6).toFixed(0)} MB); quiet stream ended by the idle timeout after ${wordsBeforeStall} words in ${(quiet.ms / 1000).toFixed(1)} s`,
    failures,
  } satisfies Figures
}

/**
 * POSTs `body` and reads the answer at `bytesPerSecond` (Infinity: as fast as it comes) for at
 * most `seconds`, then gives up. Node's http client, paused between reads, so the socket
 * applies backpressure.
 */
function slowGet(url: string, body: unknown, bytesPerSecond: number, seconds: number): Promise<{ status: number; text: string; read: number; ended: boolean; ms: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res: IncomingMessage) => {
      let text = ''
      let ended = false
      const tickMs = 100
      const perTick = bytesPerSecond === Infinity ? Infinity : Math.ceil((bytesPerSecond * tickMs) / 1000)
      res.pause()
      res.setEncoding('latin1')
      res.once('end', () => (ended = true))
      const timer = setInterval(() => {
        const n = Math.min(perTick, res.readableLength)
        if (n > 0) text += res.read(n) as string
        else res.read(0) // asks for more, and lets 'end' fire once everything is read
        if (ended || performance.now() - started > seconds * 1000) {
          clearInterval(timer)
          if (!ended) req.destroy()
          resolve({ status: res.statusCode ?? 0, text: Buffer.from(text, 'latin1').toString('utf8'), read: text.length, ended, ms: performance.now() - started })
        }
      }, tickMs)
    })
    req.once('error', reject) // after a give-up, the promise is already resolved
    req.end(JSON.stringify(body))
  })
}
