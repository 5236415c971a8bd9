// Streaming load: many concurrent streams for a while, a share of clients giving up at random
// points. Every stream not given up arrives complete (OpenAI's byte for byte as the upstream sent
// it, Anthropic's translated in full); the upstream sees every given-up request closed within 1 s;
// the heap after GC ends within 10% of where it started.
import { chatCompletion } from '../../../src/mock/openai.ts'
import { replyTo } from '../../../src/mock/replies.ts'
import { post, readChatStream, seenByTag } from '../client.ts'
import type { Outcome } from '../client.ts'
import { chat, conclude, MODELS, openUpstream, percent, prompt, startGateway } from '../harness.ts'
import type { Figures, Scenario } from '../harness.ts'

export const streamingLoad: Scenario = async ({ mock, quick }) => {
  const concurrency = 200
  const seconds = quick ? 10 : 60
  const abortShare = 0.2
  const chunkDelayMs = 20
  const gw = await startGateway(mock.url)
  const failures: string[] = []
  const find = seenByTag(mock)
  mock.failAll({ chunkDelayMs })
  let n = 0
  const send = async (tag: string, abort: boolean): Promise<Outcome & { tag: string; anthropic: boolean; words: number }> => {
    const anthropic = Math.random() < 0.25
    const words = 20 + Math.floor(Math.random() * 80)
    const body = chat(anthropic ? MODELS.anthropic : MODELS.openai, tag, words, true)
    // A random point of the stream's expected length (one chunk per word, chunkDelayMs apart).
    const abortAfterMs = abort ? Math.random() * (words + 4) * chunkDelayMs : undefined
    return { ...(await post(`${gw.url}/v1/chat/completions`, body, { abortAfterMs })), tag, anthropic, words }
  }
  // Warm up (lazy loads, compiled code, pools: the heap settles) before the baseline.
  const warmUntil = performance.now() + (quick ? 2000 : 5000)
  await Promise.all(Array.from({ length: concurrency }, async (_, i) => {
    for (let j = 0; performance.now() < warmUntil; j++) await send(`warm${i}-${j}`, Math.random() < abortShare)
  }))
  await openUpstream(mock)
  const before = await gw.memory()
  let sent = 0
  let completed = 0
  let aborted = 0
  let lost = 0
  let lateCloses = 0
  let slowestClose = 0
  const check = (o: Awaited<ReturnType<typeof send>>) => {
    const seen = find(o.tag)
    if (o.aborted) {
      aborted++
      return { seen, abortedAt: o.abortedAt! }
    }
    const problem = o.error ?? (o.status !== 200 ? `status ${o.status}` : o.anthropic ? anthropicProblem(o) : openaiProblem(o, seen?.body))
    if (problem) {
      lost++
      if (failures.length < 5) failures.push(`${o.tag}: ${problem}`)
    } else completed++
    return undefined
  }
  const pendingCloses: { seen: ReturnType<ReturnType<typeof seenByTag>>; abortedAt: number; tag: string }[] = []
  const until = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const tag = `s${++n}`
        sent++
        const abort = check(await send(tag, Math.random() < abortShare))
        if (abort) pendingCloses.push({ ...abort, tag })
      }
    }),
  )
  await openUpstream(mock)
  for (const { tag, abortedAt } of pendingCloses) {
    const seen = find(tag)
    // A client that gave up before its request reached the upstream has nothing to close there.
    if (!seen) continue
    const delay = seen.closedAt === undefined ? Infinity : seen.closedAt - abortedAt
    slowestClose = Math.max(slowestClose, delay)
    if (delay > 1000) lateCloses++
  }
  if (lateCloses) failures.push(`${lateCloses} aborted client(s) whose upstream request stayed open more than 1 s (slowest ${slowestClose === Infinity ? 'never closed' : `${Math.round(slowestClose)} ms`})`)
  const { figures, growth } = await conclude(gw, mock, before, failures, 0.1)
  return {
    scenario: `streaming load (${concurrency} streams, ${seconds} s, ${abortShare * 100}% abort)`,
    sent, completed, aborted, lost,
    ...figures,
    detail: `slowest upstream close after a client abort: ${Math.round(slowestClose)} ms; heap ${percent(growth)}`,
    failures,
  } satisfies Figures
}

// A pass-through stream must be what the mock sent for the body it received, byte for byte.
function openaiProblem(o: Outcome, upstreamBody: unknown): string | undefined {
  if (!upstreamBody) return 'the upstream never saw the request'
  const expected = chatCompletion(upstreamBody as Record<string, unknown>).chunks.join('')
  if (o.body === expected) return undefined
  return `stream differs from the upstream's at byte ${[...o.body].findIndex((c, i) => c !== expected[i])} (${o.body.length} of ${expected.length} bytes)`
}

// A translated stream must carry the whole reply, finish, and end with [DONE].
function anthropicProblem(o: Outcome & { tag: string; words: number }): string | undefined {
  const { content, done, errors } = readChatStream(o.body)
  const expected = replyTo(prompt(o.tag, o.words)).words.join('')
  if (errors.length) return `error event: ${errors[0]}`
  if (!done) return 'stream did not finish with [DONE]'
  return content === expected ? undefined : `content differs (${content.length} of ${expected.length} characters)`
}
