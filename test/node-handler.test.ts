import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { H3 } from 'h3'
import { FastResponse } from 'srvx'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeHandler } from '../src/node-handler.ts'
import { until } from './_until.ts'

// A body with a pipe, as the gateway's streams are: told when it is piped and when it is destroyed.
let destroyed = 0
let waiting = false
const piped = () => ({
  pipe(dest: NodeJS.WritableStream) {
    dest.write('data: one\n\n')
    dest.end('data: two\n\n')
  },
  destroy: () => void destroyed++,
})

const app = new H3({ silent: true })
app.get('/json', () => new FastResponse('{"ok":true}', { status: 201, statusText: 'Created', headers: { 'content-type': 'application/json', 'x-one': '1' } }))
app.get('/bytes', () => new FastResponse(new TextEncoder().encode('héllo'), { headers: { 'content-type': 'text/plain; charset=utf-8' } }))
app.get('/piped', () => new FastResponse(piped() as never, { headers: { 'content-type': 'text/event-stream' } }))
app.get('/web', () => new FastResponse(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('a web stream')), c.close()) })))
app.get('/refused', () => new FastResponse('{}', { headers: { 'x-name': 'snow ☃' } }))
app.get('/native', () => new Response(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('from a web stream')), c.close()) }), { status: 202, headers: { 'x-native': 'yes' } }))
// Answers once its client has left.
app.get('/late', async (event) => {
  waiting = true
  await once(event.runtime!.node!.res!, 'close')
  return new FastResponse(piped() as never)
})
const errors: string[] = []
const server = createServer(nodeHandler(app, (error) => errors.push(error.message)))
let base: string
beforeAll(async () => {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('the app on node:http', () => {
  it('writes an answer with its status, reason, headers and length', async () => {
    const res = await fetch(`${base}/json`)
    expect([res.status, res.statusText, res.headers.get('x-one'), res.headers.get('content-length')]).toEqual([201, 'Created', '1', '11'])
    expect(await res.json()).toEqual({ ok: true })
    const bytes = await fetch(`${base}/bytes`)
    expect([bytes.headers.get('content-length'), await bytes.text()]).toEqual(['6', 'héllo'])
  })

  it('pipes a streamed body (ours or a web stream) as it comes, and any other Response through srvx', async () => {
    const stream = await fetch(`${base}/piped`)
    expect([stream.headers.get('content-type'), await stream.text()]).toEqual(['text/event-stream', 'data: one\n\ndata: two\n\n'])
    expect(await (await fetch(`${base}/web`)).text()).toBe('a web stream')
    const native = await fetch(`${base}/native`)
    expect([native.status, native.headers.get('x-native'), await native.text()]).toEqual([202, 'yes', 'from a web stream'])
  })

  it('answers 500 when Node refuses the answer\'s head, says why, and serves on', async () => {
    const res = await fetch(`${base}/refused`)
    expect([res.status, res.statusText, await res.text()]).toEqual([500, 'Internal Server Error', 'Internal Server Error'])
    expect(errors).toEqual([expect.stringContaining('Invalid character in header content ["x-name"]')])
    expect((await fetch(`${base}/json`)).status).toBe(201)
  })

  it('ends a stream whose client left before its answer, without writing it', async () => {
    destroyed = 0
    const socket = connect(Number(new URL(base).port), '127.0.0.1')
    socket.write('GET /late HTTP/1.1\r\nhost: x\r\n\r\n')
    await until(() => waiting, 'the request to arrive')
    socket.destroy()
    await until(() => destroyed === 1, 'the body to be destroyed')
    expect(destroyed).toBe(1)
  })
})
