// How the gateway listens and closes: a close lets the answer in flight go out, then ends its
// keep-alive connection at once (never waiting for the client or Node's keep-alive timeout).
import { connect } from 'node:net'
import type { ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import { listen } from '../src/listen.ts'

describe('listen', () => {
  it('closes a keep-alive connection as soon as its answer is sent during a close, and refuses new ones', async () => {
    let asked!: (res: ServerResponse) => void
    const request = new Promise<ServerResponse>((resolve) => (asked = resolve))
    const listener = await listen((_req, res) => asked(res), { port: 0, host: '127.0.0.1', headersTimeoutMs: 5000, requestTimeoutMs: 10_000 })
    const socket = connect(listener.port, '127.0.0.1')
    let received = ''
    socket.on('data', (d) => (received += d))
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.write('GET /slow HTTP/1.1\r\nhost: x\r\nconnection: keep-alive\r\n\r\n')
    const res = await request
    let closed = false
    const closing = listener.close().then(() => (closed = true))
    await new Promise<void>((resolve) => setImmediate(resolve))
    expect(closed).toBe(false) // the answer in flight holds the close
    res.writeHead(200, { 'content-type': 'text/plain' }).end('done')
    // The server closes once that answer has gone out: its connection does not wait for another request.
    await closing
    await ended
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n4\r\ndone\r\n0\r\n\r\n$/)
    await expect(new Promise((resolve, reject) => connect(listener.port, '127.0.0.1').once('connect', resolve).once('error', reject))).rejects.toThrow(/ECONNREFUSED/)
  })
})
