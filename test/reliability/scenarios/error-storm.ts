// Error storm: thousands of upstream 4xx/5xx answers. Each reaches the client with the
// upstream's status; the gateway's sockets and heap do not grow.
import { post } from '../client.ts'
import { chat, conclude, gatewaySockets, MODELS, percent, startGateway } from '../harness.ts'
import type { Figures, Scenario } from '../harness.ts'

const STATUSES = [400, 401, 404, 429, 500, 502, 503, 529]

export const errorStorm: Scenario = async ({ mock }) => {
  const count = 5000
  const concurrency = 50
  const gw = await startGateway(mock.url)
  const failures: string[] = []
  const round = async (n: number, tag: string) => {
    let lost = 0
    let next = 0
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++
          const status = STATUSES[i % STATUSES.length]!
          mock.fail({ status, body: { error: { message: `storm ${status}`, type: 'server_error', param: null, code: null } }, headers: status === 429 ? { 'retry-after': '1' } : {} })
          const o = await post(`${gw.url}/v1/chat/completions`, chat(i % 3 === 0 ? MODELS.anthropic : MODELS.openai, `${tag}${i}`, 3, i % 2 === 0))
          // Faults are taken in order, so the status a request meets is any of the storm's.
          if (!STATUSES.includes(o.status) || !o.body.includes('storm ')) {
            lost++
            if (failures.length < 3) failures.push(`expected an upstream error passed on, got ${o.status}: ${o.error ?? o.body.slice(0, 200)}`)
          }
        }
      }),
    )
    return lost
  }
  await round(2000, 'warm') // the heap settles (compiled code, pools) before the baseline
  const before = await gw.memory()
  const socketsBefore = gatewaySockets(gw.port, mock.port)
  const lost = await round(count, 'e')
  const { figures, sockets: socketsAfter, growth } = await conclude(gw, mock, before, failures, 0.1)
  if (socketsAfter.toUpstream > socketsBefore.toUpstream) failures.push(`connections to the upstream grew from ${socketsBefore.toUpstream} to ${socketsAfter.toUpstream}`)
  return {
    scenario: `error storm (${count} upstream 4xx/5xx)`,
    sent: count, completed: count - lost, aborted: 0, lost,
    ...figures,
    detail: `connections to the upstream ${socketsBefore.toUpstream} -> ${socketsAfter.toUpstream}; heap ${percent(growth)}`,
    failures,
  } satisfies Figures
}
