import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { H3 } from 'h3'
import type { H3Event } from 'h3'
import { nodeHandler } from '../src/node-handler.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clientSignal } from '../src/client-signal.ts'
import type { ClientSignal } from '../src/client-signal.ts'
import { until } from './_until.ts'

// An app whose routes hand their request's signal out: `/wait` answers only when told to (`answer`), `/now` at once.
let signals: ClientSignal[] = []
let answer: (() => void) | undefined
const app = new H3({ silent: true })
app.get('/wait', async (event: H3Event) => {
  signals.push(clientSignal(event))
  await new Promise<void>((resolve) => (answer = resolve))
  return 'answered'
})
app.get('/now', (event: H3Event) => {
  const signal = clientSignal(event)
  expect(clientSignal(event)).toBe(signal) // one per request
  signals.push(signal)
  return 'answered'
})
const server = createServer(nodeHandler(app))
let port: number
beforeAll(async () => {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  port = (server.address() as AddressInfo).port
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe("a request's client signal", () => {
  it("aborts when the client leaves before the answer, with the request's error (a reset connection)", async () => {
    signals = []
    const socket = connect(port, '127.0.0.1')
    socket.write('GET /wait HTTP/1.1\r\nhost: gateway\r\n\r\n')
    await until(() => signals.length === 1, 'the request to arrive')
    const heard = once(signals[0]!, 'abort')
    expect(signals[0]!.aborted).toBe(false)
    socket.destroy()
    const [reason] = await heard
    expect(signals[0]!.aborted).toBe(true)
    expect(reason).toBe(signals[0]!.reason)
    expect((reason as NodeJS.ErrnoException).code).toBe('ECONNRESET')
    answer!()
  })

  it('stays quiet when the answer was sent, even once the connection closes', async () => {
    signals = []
    const res = await fetch(`http://127.0.0.1:${port}/now`, { headers: { connection: 'close' } })
    expect(await res.text()).toBe('answered')
    await until(() => signals.length === 1, 'the request to be handled')
    server.closeAllConnections()
    await new Promise((resolve) => setImmediate(resolve))
    expect(signals[0]!.aborted).toBe(false)
  })

  it("without a Node response (app.fetch), follows the request's own AbortSignal", async () => {
    signals = []
    const controller = new AbortController()
    const answered = Promise.resolve(app.fetch(new Request('http://gateway/wait', { signal: controller.signal }))).catch(() => undefined)
    await until(() => signals.length === 1, 'the request to arrive')
    expect(signals[0]!.aborted).toBe(false)
    controller.abort()
    expect(signals[0]!.aborted).toBe(true)
    expect((signals[0]!.reason as Error).name).toBe('AbortError')
    answer!()
    await answered
  })
})
