// Stale keep-alive: an upstream that closes connections idle for 1 s without saying so (no
// Keep-Alive hint, as many load balancers do), called about once a second for 2 minutes. Now and
// then the gateway reuses a pooled connection just as the upstream closes it: no such race may
// reach a client.
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { post, readChatStream } from '../client.ts'
import { chat, conclude, MODELS, sleep, startGateway, warmUp } from '../harness.ts'
import type { Figures, Scenario } from '../harness.ts'

export const staleKeepAlive: Scenario = async ({ mock, quick }) => {
  const seconds = quick ? 20 : 120
  const idleMs = 1000
  const upstream = closeIdleAfter(mock.server, idleMs)
  const gw = await startGateway(mock.url)
  const failures: string[] = []
  await warmUp(gw)
  const before = await gw.memory()
  let sent = 0
  let completed = 0
  let lost = 0
  const until = performance.now() + seconds * 1000
  while (performance.now() < until) {
    // Around the upstream's idle limit, on both sides of it.
    await sleep(idleMs * (0.85 + Math.random() * 0.3))
    const stream = sent % 2 === 0
    const o = await post(`${gw.url}/v1/chat/completions`, chat(sent % 4 < 2 ? MODELS.openai : MODELS.anthropic, `k${sent}`, 5, stream))
    sent++
    const ok = o.status === 200 && (stream ? readChatStream(o.body).done : o.body.includes('"finish_reason":"stop"'))
    if (ok) completed++
    else {
      lost++
      if (failures.length < 5) failures.push(`call ${sent}: ${o.status} ${o.error ?? o.body.slice(0, 200)}`)
    }
  }
  // The race must have happened for the scenario to prove anything.
  if (upstream.reset === 0) failures.push('no request met a connection the upstream was closing: the race was not exercised')
  const { figures } = await conclude(gw, mock, before, failures)
  return {
    scenario: `stale keep-alive (upstream closes idle connections after ${idleMs} ms, ${seconds} s)`,
    sent, completed, aborted: 0, lost,
    ...figures,
    detail: `upstream closed ${upstream.closed} idle connection(s) and reset ${upstream.reset} as a request arrived`,
    failures,
  } satisfies Figures
}

// Node's own idle timeout sends a Keep-Alive hint that undici honours; this one closes quietly
// after `ms`, and a request that arrives in the last `raceMs` before that finds the connection
// reset with no answer: what a client sees when its request crosses the server's close on the
// wire. Counts the connections closed each way.
function closeIdleAfter(server: Server, ms: number, raceMs = 50): { closed: number; reset: number } {
  const count = { closed: 0, reset: 0 }
  const arm = new WeakMap<Socket, () => void>()
  server.keepAliveTimeout = 0
  server.on('connection', (socket: Socket) => {
    let timer: NodeJS.Timeout | undefined
    let idleSince: number | undefined
    const idle = () => {
      idleSince = performance.now()
      clearTimeout(timer)
      timer = setTimeout(() => (count.closed++, socket.destroy()), ms)
    }
    arm.set(socket, idle)
    idle()
    idleSince = undefined // a new connection's first request is never refused
    socket.prependListener('data', () => {
      clearTimeout(timer)
      if (idleSince !== undefined && performance.now() - idleSince >= ms - raceMs) {
        count.reset++
        socket.resetAndDestroy()
      }
      idleSince = undefined
    })
    socket.once('close', () => clearTimeout(timer))
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => res.once('finish', () => arm.get(req.socket)?.()))
  return count
}
