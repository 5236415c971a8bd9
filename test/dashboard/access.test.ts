import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLIENT_KEY } from '../_setup.ts'
import { DEMO_ADMIN, demoServer, useBrowser } from './_browser.ts'

const browser = useBrowser()
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const PHONE = { width: 375, height: 740 }
const rows = (page: Page) => page.locator('#models tbody tr').count()
const poll = { timeout: 15_000 }

interface AxeViolation { id: string; impact: string; help: string; nodes: { target: string[]; failureSummary: string }[] }

/** The WCAG 2 A and AA violations axe finds on the page as it is now, described one per line. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE })
  const violations = await page.evaluate<AxeViolation[]>("axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } }).then((r) => r.violations)")
  return violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${v.help} at ${n.target.join(' ')}: ${n.failureSummary}`))
}

describe('with client keys (GATEWAY_API_KEYS)', { timeout: 30_000 }, () => {
  let demo: Awaited<ReturnType<typeof demoServer>>
  beforeAll(async () => {
    demo = await demoServer({ env: { GATEWAY_API_KEYS: CLIENT_KEY } })
  })
  afterAll(() => demo.close())

  it('asks for a key, says when one is wrong, and loads everything with the right one', async () => {
    const page = await browser.open(`${demo.url}/`)
    const status = page.locator('#status')
    await expect.poll(() => status.textContent(), poll).toBe('This gateway needs an API key: enter one of its keys above (a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key> (one of GATEWAY_API_KEYS)).')
    const key = page.getByLabel('API key', { exact: true })
    expect(await key.isVisible()).toBe(true)
    expect(await key.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true)
    expect(await rows(page)).toBe(0)

    await key.fill('not-a-key')
    await page.getByRole('button', { name: 'Use key' }).click()
    await expect.poll(() => status.textContent(), poll).toBe('The gateway refused this API key: a valid API key is required: send Authorization: Bearer <key> or x-api-key: <key> (one of GATEWAY_API_KEYS)')
    expect(await rows(page)).toBe(0)

    await key.fill(CLIENT_KEY)
    await page.getByRole('button', { name: 'Use key' }).click()
    const listed = (await (await fetch(`${demo.url}/api/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).json()).models as unknown[]
    await expect.poll(() => rows(page), poll).toBe(listed.length)
    expect(await status.textContent()).toBe('')
    await expect.poll(() => page.locator('#usage-empty').textContent(), poll).toMatch(/^No model calls since /)
    expect(await page.locator('#catalog-version').textContent()).toMatch(/^[0-9a-f]{16}$/)
    // The key stays in this tab's session storage, never in the URL or a snippet.
    expect(page.url()).toBe(`${demo.url}/`)
    expect(await page.evaluate<string>("sessionStorage.getItem('gateway-api-key')")).toBe(CLIENT_KEY)
    await page.getByRole('button', { name: 'gpt-5.1' }).click()
    const curl = await page.locator('#snippet-curl').textContent()
    expect(curl).toContain('-H "authorization: Bearer $GATEWAY_API_KEY"')
    expect(curl).not.toContain(CLIENT_KEY)
    await page.keyboard.press('Escape')

    // A reload in the same tab keeps the key.
    await page.reload()
    await expect.poll(() => rows(page), poll).toBe(listed.length)
    expect(page.errors).toEqual([])
  })

  it('takes the admin token for the client routes too', async () => {
    const page = await browser.open(`${demo.url}/`)
    await expect.poll(() => page.locator('#status').textContent(), poll).toMatch(/^This gateway needs an API key/)
    await page.getByLabel('Admin token (optional)').fill(DEMO_ADMIN)
    await page.getByRole('button', { name: 'Use admin token' }).click()
    await expect.poll(() => rows(page), poll).toBe(Object.keys(demo.gateway.catalog.models).length)
    await expect.poll(() => page.locator('#status').textContent(), poll).toBe('')
    // The gateway wants a key: the snippets say so, even though the page itself used the admin token.
    await page.getByRole('button', { name: 'gpt-4o', exact: true }).click()
    expect(await page.locator('#snippet-curl').textContent()).toContain('-H "authorization: Bearer $GATEWAY_API_KEY"')
    expect(await page.locator('#snippet-sdk').textContent()).toContain('apiKey: process.env.GATEWAY_API_KEY')
  })
})

describe('layout and accessibility', { timeout: 30_000 }, () => {
  let demo: Awaited<ReturnType<typeof demoServer>>
  beforeAll(async () => {
    demo = await demoServer()
    // One model call, so that the usage chart and table are on the page too.
    await fetch(`${demo.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}' })
  })
  afterAll(() => demo.close())

  const loaded = async (page: Page) => {
    await expect.poll(() => rows(page), poll).toBeGreaterThan(15)
    await page.locator('#usage-chart svg').waitFor()
  }

  it('has no page-level horizontal scroll at phone width (the table scrolls inside its box)', async () => {
    const page = await browser.open(`${demo.url}/`, { viewport: PHONE })
    await loaded(page)
    const widths = () => page.evaluate<[number, number]>('[document.documentElement.scrollWidth, innerWidth]')
    const [scrollWidth, innerWidth] = await widths()
    expect(innerWidth).toBe(PHONE.width)
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth)
    const box = page.getByRole('region', { name: 'Models table' })
    expect(await box.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true)
    // The detail view fits too.
    await page.getByRole('button', { name: 'claude-sonnet-4-5-20250929' }).click()
    const dialog = page.getByRole('dialog')
    expect((await dialog.boundingBox())!.width).toBeLessThanOrEqual(PHONE.width)
    expect((await widths())[0]).toBeLessThanOrEqual(PHONE.width)
  })

  it.each([
    ['desktop', { width: 1280, height: 900 }],
    ['phone', PHONE],
  ])('axe finds no WCAG 2 A/AA violation (%s): table, usage, admin view and detail view', async (_, viewport) => {
    // bypassCSP lets the test inject axe; the page itself runs under its strict CSP.
    const page = await browser.open(`${demo.url}/`, { viewport, bypassCSP: true })
    await loaded(page)
    expect(await axeViolations(page)).toEqual([])
    await page.getByLabel('Admin token (optional)').fill(DEMO_ADMIN)
    await page.getByRole('button', { name: 'Use admin token' }).click()
    await expect.poll(() => page.locator('#models .badge.retired').count(), poll).toBeGreaterThan(0)
    expect(await axeViolations(page)).toEqual([])
    await page.getByRole('button', { name: 'gpt-4', exact: true }).click()
    await page.getByRole('dialog').waitFor()
    expect(await axeViolations(page)).toEqual([])
  })

  it('shows where the keyboard focus is', async () => {
    const page = await browser.open(`${demo.url}/`)
    await loaded(page)
    await page.getByLabel('Search').focus()
    await page.keyboard.press('Tab')
    expect(await page.locator(':focus').getAttribute('id')).toBe('filter-provider')
    const outline = await page.evaluate<string>("(() => { const s = getComputedStyle(document.activeElement); return `${s.outlineStyle} ${s.outlineWidth}` })()")
    expect(outline).toBe('solid 3px')
  })
})
