// Cancellation storm: clients that all give up after 0.5 s while the upstream takes its time.
// A fresh request then succeeds within 5 s, and nothing is left open upstream.
import { post, readChatStream } from '../client.ts'
import { chat, conclude, MODELS, startGateway, warmUp } from '../harness.ts'
import type { Figures, Scenario } from '../harness.ts'

export const cancellationStorm: Scenario = async ({ mock }) => {
  const count = 200
  const gw = await startGateway(mock.url)
  const failures: string[] = []
  await warmUp(gw)
  const before = await gw.memory()
  const base = mock.seen.length
  mock.failAll({ delayMs: 10_000 })
  // Half streamed, half not; a quarter through the Anthropic translation.
  const outcomes = await Promise.all(
    Array.from({ length: count }, (_, i) => post(`${gw.url}/v1/chat/completions`, chat(i % 4 === 0 ? MODELS.anthropic : MODELS.openai, `c${i}`, 5, i % 2 === 0), { abortAfterMs: 500 })),
  )
  mock.failAll()
  const reached = mock.seen.length - base
  const aborted = outcomes.filter((o) => o.aborted).length
  const notAborted = outcomes.filter((o) => !o.aborted)
  for (const o of notAborted.slice(0, 3)) failures.push(`a client meant to give up got status ${o.status}: ${o.error ?? o.body.slice(0, 200)}`)
  const started = performance.now()
  const fresh = await post(`${gw.url}/v1/chat/completions`, chat(MODELS.openai, 'fresh', 5, true), { abortAfterMs: 5000 })
  const freshMs = performance.now() - started
  const freshOk = fresh.status === 200 && readChatStream(fresh.body).done
  if (!freshOk) failures.push(`the fresh request after the storm failed: ${fresh.aborted ? 'no answer within 5 s' : `status ${fresh.status} ${fresh.error ?? fresh.body.slice(0, 200)}`}`)
  const { figures } = await conclude(gw, mock, before, failures)
  return {
    scenario: `cancellation storm (${count} clients give up after 0.5 s)`,
    sent: count + 1, completed: freshOk ? 1 : 0, aborted, lost: notAborted.length + (freshOk ? 0 : 1),
    ...figures,
    detail: `fresh request answered in ${Math.round(freshMs)} ms; upstream saw ${reached} of the ${count} before they gave up`,
    failures,
  } satisfies Figures
}
