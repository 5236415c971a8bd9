import OpenAI from 'openai'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoServer, screenshot, useBrowser } from './_browser.ts'

const browser = useBrowser()
// When the faked clock starts, in the page.
const START = Date.parse('2026-11-21T12:00:00Z')
const usageRows = (page: Page) => page.locator('#usage tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)))

describe('the usage panel', { timeout: 30_000 }, () => {
  let demo: Awaited<ReturnType<typeof demoServer>>
  beforeAll(async () => {
    demo = await demoServer()
  })
  afterAll(() => demo.close())

  it('says there were no model calls yet, then counts a chat completion made meanwhile', async () => {
    // A short refresh period keeps the test quick; the page's default is 5 s.
    const page = await browser.open(`${demo.url}/?refresh=0.3`, { viewport: { width: 1280, height: 900 } })
    // The screenshot is the CI artifact: taken whatever happens, most useful when a check failed.
    try {
      const since = (await (await fetch(`${demo.url}/api/stats`)).json()).since as string
      const empty = page.locator('#usage-empty')
      await expect.poll(() => empty.textContent(), { timeout: 15_000 }).toBe(`No model calls since ${since.slice(0, 10)} ${since.slice(11, 19)} UTC.`)
      expect(await empty.isVisible()).toBe(true)
      expect(await page.locator('#usage').isVisible()).toBe(false)
      expect(await page.locator('#usage-chart svg').count()).toBe(0)

      const client = new OpenAI({ baseURL: `${demo.url}/v1`, apiKey: 'unused', maxRetries: 0 })
      const answer = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello from the dashboard test' }] })
      const { prompt_tokens, completion_tokens } = answer.usage!

      const ms = expect.stringMatching(/^\d+ ms$/)
      await expect.poll(() => usageRows(page), { timeout: 15_000 }).toEqual([['gpt-4o', '1', '0', '0', String(prompt_tokens), String(completion_tokens), expect.stringMatching(/^\$0\.0000\d+$/), ms, ms, '–', '–']])
      // Not streamed: a latency, no first token.
      const latency = page.getByRole('img', { name: 'Latency by model, last 5 minutes' })
      expect(await latency.locator('desc').textContent()).toMatch(/^gpt-4o: p50 \d+ ms, p95 \d+ ms$/)
      expect(await latency.locator('rect').count()).toBe(2)
      expect(await empty.isVisible()).toBe(false)
      const chart = page.getByRole('img', { name: 'Requests by model' })
      expect(await chart.locator('desc').textContent()).toBe('gpt-4o: 1 request')
      expect(await chart.locator('rect').count()).toBe(1)
      expect(await page.locator('#usage-summary').textContent()).toMatch(new RegExp(`^1 model call \\(0 failed\\), ${prompt_tokens + completion_tokens} tokens, \\$0\\.0000\\d+ since .+ UTC; \\d+ HTTP requests on all routes, this page's included \\(\\d+ errors\\); updated .+ UTC\\.$`))

      // A second call: the same row counts 2, without reloading.
      await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'again' }] })
      await expect.poll(async () => (await usageRows(page))[0]?.[1], { timeout: 15_000 }).toBe('2')
      expect(await chart.locator('desc').textContent()).toBe('gpt-4o: 2 requests')
      expect(page.errors).toEqual([])
    } finally {
      await screenshot(page, 'dashboard')
    }
  })

  it('says so in the status line when the gateway stops answering', async () => {
    const gone = await demoServer()
    const page = await browser.open(`${gone.url}/?refresh=0.3`)
    await expect.poll(() => page.locator('#usage-empty').textContent(), { timeout: 15_000 }).toMatch(/^No model calls since/)
    expect(await page.getByRole('status').first().textContent()).toBe('')
    await gone.close()
    await expect.poll(() => page.getByRole('status').first().textContent(), { timeout: 15_000 }).toMatch(/^Loading the usage failed \(no answer\): the gateway did not answer \(.+\)$/)
  })

  it('refreshes every 5 seconds by default', async () => {
    // The page's own clock, faked and paused: it moves only by runFor, never while the test waits
    // for the page (an installed clock left running would move on by the time those waits take).
    const page = await browser.open('about:blank')
    await page.clock.install({ time: START })
    await page.clock.pauseAt(START + 1_000)
    // Counted in the page as each call starts, so that a count read after the clock moved is exact.
    await page.addInitScript("window.statsCalls = 0; const f = fetch; window.fetch = (url, init) => (String(url).endsWith('/api/stats') && window.statsCalls++, f(url, init))")
    // Counted as each answer is shown: the next turn is timed from there.
    await page.addInitScript("window.shown = 0; addEventListener('DOMContentLoaded', () => new MutationObserver(() => window.shown++).observe(document.getElementById('usage-summary'), { childList: true }))")
    await page.goto(`${demo.url}/`)
    const fetched = () => page.evaluate<number>('window.statsCalls')
    const shown = (n: number) => expect.poll(() => page.evaluate<number>('window.shown'), { timeout: 15_000 }).toBe(n)
    await expect.poll(fetched, { timeout: 15_000 }).toBe(1)
    await shown(1)
    await page.clock.runFor(4_900)
    expect(await fetched()).toBe(1)
    await page.clock.runFor(200)
    expect(await fetched()).toBe(2)
    await shown(2)
    await page.clock.runFor(5_000)
    expect(await fetched()).toBe(3)
  })
})
