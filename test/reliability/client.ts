// The load generator's HTTP client: undici's request on its own pool (not the gateway's), and
// what a finished call looked like to the client.
import { Agent, request } from 'undici'
import type { MockUpstream } from '../../src/mock/app.ts'
import type { Seen } from '../../src/mock/faults.ts'

const pool = new Agent({ keepAliveTimeout: 10_000, connections: 1024 })

export interface Outcome {
  status: number
  body: string
  /** The client gave up (its signal aborted) before the body ended. */
  aborted: boolean
  /** What failed, when the call neither completed nor was aborted on purpose. */
  error?: string
  /** `performance.now()` when the client gave up. */
  abortedAt?: number
}

// No call may hang the suite: one still open after this long is lost.
const DEADLINE_MS = 60_000

/**
 * POSTs `body` as JSON to `url` and reads the answer to its end; `abortAfterMs` gives up that
 * long after sending (if the answer has not ended by then), on purpose.
 */
export async function post(url: string, body: unknown, options: { abortAfterMs?: number; headers?: Record<string, string> } = {}): Promise<Outcome> {
  const controller = new AbortController()
  let abortedAt: number | undefined
  const timer = options.abortAfterMs === undefined ? undefined : setTimeout(() => ((abortedAt = performance.now()), controller.abort()), options.abortAfterMs)
  const deadline = setTimeout(() => controller.abort(new Error(`no complete answer within ${DEADLINE_MS} ms`)), DEADLINE_MS)
  let status = 0
  let text = ''
  try {
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...options.headers }, body: JSON.stringify(body), signal: controller.signal, dispatcher: pool })
    status = res.statusCode
    res.body.setEncoding('utf8')
    for await (const chunk of res.body) text += chunk as string
    return { status, body: text, aborted: false }
  } catch (error) {
    if (abortedAt !== undefined) return { status, body: text, aborted: true, abortedAt }
    return { status, body: text, aborted: false, error: (error as Error).message }
  } finally {
    clearTimeout(timer)
    clearTimeout(deadline)
  }
}

/** Finds the mock's record of a request by the tag its prompt starts with (indexed as it grows). */
export function seenByTag(mock: MockUpstream): (tag: string) => Seen | undefined {
  const index = new Map<string, Seen>()
  let scanned = 0
  return (tag) => {
    for (; scanned < mock.seen.length; scanned++) {
      const s = mock.seen[scanned]!
      const b = s.body as { messages?: { content?: unknown }[] } | null
      const prompt = b?.messages?.at(-1)?.content
      if (typeof prompt === 'string') index.set(prompt.split(' ', 1)[0]!, s)
    }
    return index.get(tag)
  }
}

/** The content of an OpenAI chat stream, whether it finished ([DONE] after a finish reason), and its error events. */
export function readChatStream(text: string): { content: string; done: boolean; finish?: string; errors: string[] } {
  let content = ''
  let finish: string | undefined
  const errors: string[] = []
  let done = false
  for (const block of text.split('\n\n')) {
    const data = block.startsWith('data: ') ? block.slice(6) : undefined
    if (data === undefined) continue
    if (data === '[DONE]') {
      done = true
      continue
    }
    const json = JSON.parse(data) as { error?: { message: string }; choices?: { delta?: { content?: string }; finish_reason?: string | null }[] }
    if (json.error) errors.push(json.error.message)
    for (const c of json.choices ?? []) {
      content += c.delta?.content ?? ''
      finish = c.finish_reason ?? finish
    }
  }
  return { content, done: done && finish !== undefined, finish, errors }
}
