import { spawnSync } from 'node:child_process'
import Anthropic from '@anthropic-ai/sdk'
import { describe, expect, it } from 'vitest'
import { useProxy } from '../_setup.ts'

const ctx = useProxy()
const user = (content: string) => [{ role: 'user' as const, content }]
const metrics = async () => (await fetch(`${ctx.gw.url}/metrics`)).text()

// `promtool check metrics` (Debian's prometheus package): the exposition's syntax and Prometheus' naming rules.
function promtool(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (run.error) throw new Error(`promtool is needed (Debian's prometheus package; .ci/run installs it): ${run.error.message}`)
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() }
}

// The buckets of one series of a histogram, as le -> cumulative count.
function buckets(text: string, name: string, labels: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{${labels.replaceAll('"', '\\"')},le="([^"]+)"\\} (\\d+)$`).exec(line)
    if (m) out.set(m[1]!, Number(m[2]))
  }
  return out
}

describe('latency histograms in /metrics', () => {
  it('pass promtool, and count each answered call in the buckets of its model and provider', async () => {
    await ctx.client.chat.completions.create({ model: 'chat', messages: user('one') })
    for await (const _ of await ctx.client.chat.completions.create({ model: 'chat', messages: user('two three four'), stream: true }));
    await new Anthropic({ baseURL: ctx.gw.url, apiKey: 'x', maxRetries: 0 }).messages.stream({ model: 'claude', max_tokens: 50, messages: user('five six') }).finalMessage()
    const text = await metrics()
    expect(promtool(text)).toEqual({ status: 0, output: '' })
    for (const [name, labels, count] of [
      ['gateway_upstream_first_byte_seconds', 'model="chat",provider="acme"', 2],
      ['gateway_time_to_first_token_seconds', 'model="chat",provider="acme"', 1],
      ['gateway_completion_duration_seconds', 'model="chat"', 2],
      ['gateway_output_tokens_per_second', 'model="chat"', 1],
      ['gateway_time_to_first_token_seconds', 'model="claude",provider="claude"', 1],
    ] as const) {
      const b = buckets(text, name, labels)
      expect([...b.keys()].at(-1)).toBe('+Inf')
      expect(b.get('+Inf')).toBe(count)
      const counts = [...b.values()]
      expect(counts).toEqual([...counts].sort((x, y) => x - y)) // cumulative
      expect(text).toContain(`${name}_count{${labels}} ${count}`)
    }
    expect(buckets(text, 'gateway_http_request_duration_seconds', 'method="POST",route="/v1/chat/completions",status="200"').get('+Inf')).toBe(2)
  })

  it('give the dashboard p50 and p95 per model over the recent window', async () => {
    for (let i = 0; i < 3; i++) for await (const _ of await ctx.client.chat.completions.create({ model: 'chat', messages: user(`window ${i}`), stream: true }));
    const stats = (await (await fetch(`${ctx.gw.url}/api/stats`)).json()) as { latency_by_model: Record<string, Record<string, number>> }
    const chat = stats.latency_by_model.chat!
    expect(chat.samples).toBeGreaterThanOrEqual(3)
    expect(chat.p50_seconds).toBeGreaterThan(0)
    expect(chat.p95_seconds).toBeGreaterThanOrEqual(chat.p50_seconds!)
    expect(chat.ttft_p95_seconds).toBeGreaterThanOrEqual(chat.ttft_p50_seconds!)
    expect(chat.ttft_p50_seconds).toBeLessThanOrEqual(chat.p95_seconds!)
  })
})
