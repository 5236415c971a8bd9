// Abuse under load: while 50 clients stream chat completions, others send chunked bodies over
// MAX_BODY_BYTES and call a model whose upstream answers one 40 MB line. Every over-limit body
// gets 413, every long line an error event; the normal streams all complete; the process never
// exits and /healthz keeps answering promptly (the long lines cost linear time, in pieces).
import { connect } from 'node:net'
import { post } from '../client.ts'
import { chat, conclude, MODELS, sleep, startGateway, startMock, warmUp, within } from '../harness.ts'
import type { Figures, Scenario } from '../harness.ts'

// The scenario's limit, and bodies a little over it.
const MAX_BODY_BYTES = 64 * 1024
// A model of the shipped catalog on the `local` provider, pointed at the misbehaving upstream.
const LONG_LINE_MODEL = 'qwen3-coder-30b'
// The slowest /healthz answer allowed while all of it goes on.
const HEALTH_LIMIT_MS = 1000

// A chunked POST whose body passes the limit; resolves with the status line the gateway sent.
async function overLimit(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  let received = ''
  socket.on('data', (d) => (received += d))
  socket.on('error', () => {})
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
  const piece = `4000\r\n${'x'.repeat(0x4000)}\r\n`
  for (let sent = 0; sent <= MAX_BODY_BYTES && !socket.destroyed && !received; sent += 0x4000) {
    if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve))
  }
  await within(10_000, 'the 413 and the close', new Promise((resolve) => socket.once('close', resolve)))
  return received.split('\r\n')[0] ?? ''
}

export const abuseUnderLoad: Scenario = async ({ mock, quick }) => {
  const seconds = quick ? 5 : 20
  const longLines = await startMock({}) // the local provider sends no key
  longLines.failAll({ status: 200, raw: `data: {"choices":[{"delta":{"content":"${'x'.repeat(40 * 1024 * 1024)}`, headers: { 'content-type': 'text/event-stream' } })
  const gw = await startGateway(mock.url, { MAX_BODY_BYTES: String(MAX_BODY_BYTES), LOCAL_BASE_URL: `${longLines.url}/v1` })
  const failures: string[] = []
  await warmUp(gw)
  const before = await gw.memory()
  const end = performance.now() + seconds * 1000
  const counts = { streams: 0, streamsOk: 0, overLimit: 0, overLimit413: 0, longLine: 0, longLineCut: 0 }
  let slowestHealth = 0

  const streams = Array.from({ length: 50 }, async (_, w) => {
    for (let i = 0; performance.now() < end; i++) {
      counts.streams++
      const o = await post(`${gw.url}/v1/chat/completions`, chat(w % 4 ? MODELS.openai : MODELS.anthropic, `s${w}-${i}`, 30, true))
      if (o.status === 200 && o.body.endsWith('data: [DONE]\n\n')) counts.streamsOk++
      else if (failures.length < 5) failures.push(`a normal stream failed: ${o.status} ${o.error ?? o.body.slice(-200)}`)
    }
  })
  const bodies = Array.from({ length: 2 }, async () => {
    while (performance.now() < end) {
      counts.overLimit++
      const status = await overLimit(gw.port)
      if (status === 'HTTP/1.1 413 Payload Too Large') counts.overLimit413++
      else if (failures.length < 5) failures.push(`an over-limit chunked body got '${status}'`)
    }
  })
  const lines = (async () => {
    while (performance.now() < end) {
      counts.longLine++
      const o = await post(`${gw.url}/v1/chat/completions`, { model: LONG_LINE_MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] })
      if (o.status === 200 && o.body.includes('sent an event longer than 16777216 bytes')) counts.longLineCut++
      else if (failures.length < 5) failures.push(`a 40 MB line got ${o.status}: ${o.error ?? o.body.slice(0, 200)}`)
    }
  })()
  const health = (async () => {
    while (performance.now() < end) {
      const started = performance.now()
      const res = await within(10_000, '/healthz', fetch(`${gw.url}/healthz`))
      slowestHealth = Math.max(slowestHealth, performance.now() - started)
      if (res.status !== 200) failures.push(`/healthz answered ${res.status}`)
      await sleep(100)
    }
  })()
  await Promise.all([...streams, ...bodies, lines, health])

  if (gw.child.exitCode !== null) failures.push(`the gateway exited (${gw.child.exitCode})`)
  if (slowestHealth > HEALTH_LIMIT_MS) failures.push(`/healthz took ${Math.round(slowestHealth)} ms (limit ${HEALTH_LIMIT_MS} ms)`)
  if (!counts.overLimit || !counts.longLine) failures.push('the abuse was not sent')
  const { figures } = await conclude(gw, mock, before, failures)
  await longLines.close()
  const lost = counts.streams - counts.streamsOk + (counts.overLimit - counts.overLimit413) + (counts.longLine - counts.longLineCut)
  return {
    scenario: `abuse under load (chunked bodies over the limit, 40 MB lines, ${seconds} s)`,
    sent: counts.streams + counts.overLimit + counts.longLine,
    completed: counts.streamsOk + counts.overLimit413 + counts.longLineCut,
    aborted: 0,
    lost,
    ...figures,
    detail: `${counts.streamsOk}/${counts.streams} streams complete, ${counts.overLimit413}/${counts.overLimit} over-limit bodies 413, ${counts.longLineCut}/${counts.longLine} 40 MB lines cut with an error event; slowest /healthz ${Math.round(slowestHealth)} ms (limit ${HEALTH_LIMIT_MS} ms)`,
    failures,
  } satisfies Figures
}
