// Graceful shutdown: SIGTERM under load. New connections are refused at once; requests in
// flight finish within the drain period (SHUTDOWN_TIMEOUT_MS, default 10 s); streams still open
// then end with an error event; the process exits 0.
import { connect } from 'node:net'
import { post, readChatStream } from '../client.ts'
import type { Outcome } from '../client.ts'
import { until } from '../../_until.ts'
import { chat, gatewaySockets, keyInLogs, MODELS, openUpstream, sleep, startGateway, warmUp, within } from '../harness.ts'
import type { Figures, Scenario } from '../harness.ts'

const DRAIN_MS = 10_000 // the default

export const gracefulShutdown: Scenario = async ({ mock }) => {
  const gw = await startGateway(mock.url)
  const failures: string[] = []
  const url = `${gw.url}/v1/chat/completions`
  await warmUp(gw)
  const warm = mock.seen.length
  const before = await gw.memory()
  // In flight at SIGTERM: 100 answers that take 1 s, 50 streams that take about 3 s, and 20
  // streams that stall and will still be open when the drain period ends.
  const calls: Promise<Outcome & { kind: 'quick' | 'stream' | 'stalled' }>[] = []
  // One kind at a time, each reaching the upstream before the next is sent: the mock applies
  // faults in the order requests arrive, so every request of a kind meets that kind's fault.
  const phase = async (kind: 'quick' | 'stream' | 'stalled', count: number) => {
    const fault = kind === 'quick' ? { delayMs: 1000 } : kind === 'stream' ? { chunkDelayMs: 50 } : { stallAfter: 3 }
    for (let i = 0; i < count; i++) {
      mock.fail(fault)
      calls.push(post(url, chat(i % 3 === 0 ? MODELS.anthropic : MODELS.openai, `${kind}${i}`, 50, kind !== 'quick')).then((o) => ({ ...o, kind })))
    }
    await until(() => mock.seen.length === warm + calls.length, `${count} ${kind} requests to reach the upstream`, 30_000)
  }
  await phase('stalled', 20)
  await phase('stream', 50)
  await phase('quick', 100)
  const signalled = performance.now()
  gw.child.kill('SIGTERM')
  // Refused at once, and still refused late in the drain.
  const probes: boolean[] = []
  for (const at of [200, 3000, 8000]) {
    await sleep(at - (performance.now() - signalled))
    probes.push(await refusedConnection(gw.port))
  }
  if (probes.some((refused) => !refused)) failures.push(`a new connection was accepted during the drain (probes at 0.2, 3 and 8 s: ${probes.map((r) => (r ? 'refused' : 'accepted')).join(', ')})`)
  const refused = probes.every(Boolean)
  const outcomes = await within(DRAIN_MS + 20_000, 'the calls in flight to end', Promise.all(calls))
  const code = await within(DRAIN_MS + 20_000, 'the gateway to exit', gw.exited)
  const exitMs = performance.now() - signalled
  if (code !== 0) failures.push(`exit code ${code}`)
  let completed = 0
  let lost = 0
  let endedByDrain = 0
  for (const o of outcomes) {
    const stream = readChatStream(o.body)
    const ok =
      o.status === 200 &&
      (o.kind === 'quick' ? o.body.includes('"finish_reason":"stop"') : o.kind === 'stream' ? stream.done : !stream.done && stream.errors.some((e) => e.includes('shutting down')))
    if (!ok) {
      lost++
      if (failures.length < 5) failures.push(`${o.kind}: ${o.status} ${o.error ?? o.body.slice(-200)}`)
    } else if (o.kind === 'stalled') endedByDrain++
    else completed++
  }
  if (exitMs > DRAIN_MS + 3000) failures.push(`the process took ${Math.round(exitMs)} ms to exit (drain period ${DRAIN_MS} ms)`)
  const upstreamOpen = await openUpstream(mock)
  const sockets = gatewaySockets(gw.port, mock.port)
  if (keyInLogs(gw.lines)) failures.push('a provider key appeared in the gateway log')
  return {
    scenario: 'graceful shutdown (SIGTERM under load)',
    sent: calls.length, completed, aborted: 0, lost, upstreamOpen,
    heapBefore: before.heapUsed, heapAfter: NaN, rssBefore: before.rss, rssAfter: NaN,
    closeWait: sockets.closeWait,
    detail: `new connection ${refused ? 'refused' : 'accepted'}; ${completed} in flight finished, ${endedByDrain} stalled streams ended with an error event; exit ${code} after ${(exitMs / 1000).toFixed(1)} s`,
    failures,
  } satisfies Figures
}

function refusedConnection(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(false)))
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'))
  })
}
