import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, connect } from 'node:net'

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function _answers(port: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    let said = ''
    const socket = connect(port, '127.0.0.1', () => socket.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`))
    socket.on('data', (d) => {
      said += d
      if (said.includes('+PONG') || said.includes('-')) (socket.destroy(), resolve(said.includes('+PONG')))
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * A `redis-server` of the caller's own (a test's, the bench's) on a free port (Debian's, as on the machines and CI),
 * keeping nothing on disk, with `password` when given. `stop()` kills it (as a crash would),
 * `start()` brings it back on the same port, empty.
 */
export async function redisServer(options: { password?: string } = {}) {
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...(options.password ? ['--requirepass', options.password] : [])]
    child = spawn('redis-server', args, { stdio: 'ignore' })
    let failure: Error | undefined
    child.once('error', (error) => (failure = error))
    for (const deadline = Date.now() + 10_000; !(await _answers(port, options.password)); await new Promise((resolve) => setTimeout(resolve, 20))) {
      if (failure) throw new Error(`cannot start redis-server (install Debian's redis-server package): ${failure.message}`)
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 10 s`)
    }
  }
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return // gone already
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
  await start()
  return { port, url: `redis://${options.password ? `:${options.password}@` : ''}127.0.0.1:${port}`, start, stop }
}
