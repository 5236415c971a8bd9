import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compileOk, NOW } from '../_setup.ts'
import { DEMO_ADMIN, demoServer, previewCatalog, useBrowser } from './_browser.ts'

interface WebUIModel { id: string; provider: string; kind: string; capabilities: string[]; context_window: number | null }

const browser = useBrowser()
const ids = (page: Page) => page.locator('#models tbody .model-link').allTextContents()
const row = (page: Page, id: string) => page.locator(`#models tbody tr[data-model="${id}"]`)
const poll = { timeout: 15_000 }

describe('the catalog table', { timeout: 30_000 }, () => {
  let demo: Awaited<ReturnType<typeof demoServer>>
  let listed: WebUIModel[]
  beforeAll(async () => {
    demo = await demoServer({ now: () => NOW })
    listed = (await (await fetch(`${demo.url}/api/models`)).json()).models
  })
  afterAll(() => demo.close())

  it('lists the models the gateway lists, and the catalog version', async () => {
    const page = await browser.open(`${demo.url}/`)
    await expect.poll(() => ids(page), poll).toEqual(listed.map((m) => m.id))
    expect(listed.length).toBeGreaterThan(15)
    expect(await ids(page)).toEqual(expect.arrayContaining(['gpt-5.1', 'claude-sonnet-4-5-20250929', 'qwen3-coder-30b', 'text-embedding-3-small']))
    expect(await ids(page)).not.toContain('gpt-4') // retired on its sunset: not listed
    expect(await page.locator('#model-count').textContent()).toBe(`Showing ${listed.length} of ${listed.length} models`)
    const version = (await (await fetch(`${demo.url}/api/config`)).json()).catalog_version
    expect(await page.locator('#catalog-version').textContent()).toBe(version)
    expect(await row(page, 'gpt-5.1').locator('td').nth(5).textContent()).toBe('400,000')
    expect(page.errors).toEqual([])
  })

  it('narrows the rows by search, provider, kind and capability', async () => {
    const page = await browser.open(`${demo.url}/`)
    await expect.poll(() => ids(page), poll).toHaveLength(listed.length)
    await page.getByLabel('Search').fill('CLAUDE')
    const claude = listed.filter((m) => m.id.includes('claude')).map((m) => m.id)
    expect(claude.length).toBeGreaterThan(2)
    expect(await ids(page)).toEqual(claude)
    expect(await page.locator('#model-count').textContent()).toBe(`Showing ${claude.length} of ${listed.length} models`)
    // Search reads descriptions too.
    await page.getByLabel('Search').fill('flagship reasoning')
    expect(await ids(page)).toEqual(['gpt-5'])
    await page.getByLabel('Search').fill('')

    await page.getByLabel('Provider').selectOption('local')
    expect(await ids(page)).toEqual(['qwen3-coder-30b', 'qwen3-embedding-4b', 'qwen3-reranker-4b'])
    await page.getByLabel('Kind').selectOption('embedding')
    expect(await ids(page)).toEqual(['qwen3-embedding-4b'])
    await page.getByLabel('Provider').selectOption('')
    expect(await ids(page)).toEqual(listed.filter((m) => m.kind === 'embedding').map((m) => m.id))
    await page.getByLabel('Kind').selectOption('')
    await page.getByLabel('Capability').selectOption('vision')
    const vision = listed.filter((m) => m.capabilities.includes('vision')).map((m) => m.id)
    expect(vision.length).toBeGreaterThan(0)
    expect(vision.length).toBeLessThan(listed.length)
    expect(await ids(page)).toEqual(vision)
    await page.getByLabel('Search').fill('no such model')
    expect(await ids(page)).toEqual([])
    expect(await page.locator('#model-count').textContent()).toBe(`Showing 0 of ${listed.length} models`)
  })

  it('sorts by context window, ascending then descending, models without one last', async () => {
    const page = await browser.open(`${demo.url}/`)
    await expect.poll(() => ids(page), poll).toHaveLength(listed.length)
    const header = page.locator('th', { has: page.getByRole('button', { name: 'Context window' }) })
    expect(await header.getAttribute('aria-sort')).toBe('none')
    const windows = async () => (await page.locator('#models tbody tr td:nth-child(6)').allTextContents()).map((t) => (t ? Number(t.replaceAll(',', '')) : null))
    const known = listed.filter((m) => m.context_window !== null).map((m) => m.context_window!)
    const missing = listed.length - known.length

    await page.getByRole('button', { name: 'Context window' }).click()
    expect(await header.getAttribute('aria-sort')).toBe('ascending')
    expect(await windows()).toEqual([...known.sort((a, b) => a - b), ...Array(missing).fill(null)])
    await page.getByRole('button', { name: 'Context window' }).click()
    expect(await header.getAttribute('aria-sort')).toBe('descending')
    expect(await windows()).toEqual([...known.sort((a, b) => b - a), ...Array(missing).fill(null)])
    expect(new Set(await windows()).size).toBeGreaterThan(3)
    // Input price, cheapest first.
    await page.getByRole('button', { name: 'Input price (USD / 1M tokens)' }).click()
    const inputs = (await page.locator('#models tbody tr td:nth-child(8)').allTextContents()).filter(Boolean).map(Number)
    expect(inputs).toEqual([...inputs].sort((a, b) => a - b))
    expect(inputs[0]).toBeLessThan(inputs.at(-1)!)
    expect(await header.getAttribute('aria-sort')).toBe('none')
  })

  it('opens a model by keyboard with every field and snippets naming it; Escape closes it', async () => {
    const page = await browser.open(`${demo.url}/`, { permissions: ['clipboard-read', 'clipboard-write'] })
    await expect.poll(() => ids(page), poll).toHaveLength(listed.length)
    await page.getByLabel('Search').fill('gpt-5.1')
    await page.getByLabel('Search').focus()
    // Tab from the search box through the filters, the table region and its sort buttons to the model.
    const focused = () => page.locator(':focus').textContent()
    let presses = 0
    while ((await focused()) !== 'gpt-5.1' && presses < 15) (await page.keyboard.press('Tab'), presses++)
    expect(await focused()).toBe('gpt-5.1')
    expect(presses).toBe(10) // search -> 5 filters, the scroll region, 3 sort buttons, the model
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog', { name: 'GPT-5.1 (gpt-5.1)' })
    await dialog.waitFor()
    const field = (name: string) => dialog.locator(`dt:text-is("${name}") + dd`).first().textContent()
    expect(await field('context_window')).toBe('400000')
    expect(await field('efforts')).toBe('none, low, medium, high')
    expect(await field('input')).toBe('1.25')
    expect(await field('deprecation')).toBe('(none)')
    const curl = await page.locator('#snippet-curl').textContent()
    expect(curl).toContain(`curl ${demo.url}/v1/chat/completions`) // the first of its apis: chat, responses
    expect(curl).toContain('"model":"gpt-5.1"')
    expect(await page.locator('#snippet-sdk').textContent()).toContain(`baseURL: '${demo.url}/v1'`)
    await dialog.getByRole('button', { name: 'Copy curl' }).click()
    await expect.poll(() => page.locator('#copy-status').textContent(), poll).toBe('Copied to the clipboard.')
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(curl)
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    expect(await focused()).toBe('gpt-5.1')
  })

  it.each([
    ['claude-sonnet-4-5-20250929', (json: any) => json.choices[0].message.content],
    ['text-embedding-3-small', (json: any) => `${json.data[0].embedding.length} dimensions`],
    ['qwen3-reranker-4b', (json: any) => `${json.results.length} results`],
  ])('the curl snippet of %s works against the gateway', async (model, answer) => {
    const page = await browser.open(`${demo.url}/`)
    await expect.poll(() => ids(page), poll).toHaveLength(listed.length)
    await page.getByRole('button', { name: model, exact: true }).click()
    const curl = (await page.locator('#snippet-curl').textContent())!
    const body = /-d '([^']*)'/.exec(curl)![1]!
    const res = await fetch(/curl (\S+)/.exec(curl)![1]!, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    expect(res.status).toBe(200)
    expect(answer(await res.json())).toMatch(/hello|^\d+ (dimensions|results)$/)
  })
})

describe('deprecation and provider badges', { timeout: 30_000 }, () => {
  it('shows a deprecated model with its sunset date and replacement, and filters by it', async () => {
    const demo = await demoServer({ now: () => NOW })
    try {
      const page = await browser.open(`${demo.url}/`)
      await expect.poll(() => ids(page), poll).toContain('gpt-5')
      expect(await row(page, 'gpt-5').locator('.badge').allTextContents()).toEqual(['deprecated: sunset 2026-12-11, use gpt-6.1-sol'])
      expect(await row(page, 'gpt-5.1').locator('.badge').allTextContents()).toEqual([])
      await page.getByLabel('Deprecated').selectOption('only')
      const deprecated = await ids(page)
      expect(deprecated).toContain('gpt-5')
      expect(deprecated).not.toContain('gpt-5.1')
      for (const id of deprecated) expect(await row(page, id).locator('.badge.deprecated').textContent(), id).toMatch(/^deprecated: sunset \d{4}-\d\d-\d\d/)
      await page.getByLabel('Deprecated').selectOption('hide')
      expect((await ids(page)).filter((id) => deprecated.includes(id))).toEqual([])
    } finally {
      await demo.close()
    }
  })

  it('lists the upcoming retirements, soonest first, with the days left on the page\'s clock and each replacement', async () => {
    const demo = await demoServer({ now: () => NOW })
    try {
      const page = await browser.open('about:blank')
      // The page's clock, paused on the tests' day: days left are counted from it.
      await page.clock.install({ time: NOW })
      await page.clock.pauseAt(NOW.getTime() + 1_000)
      await page.goto(`${demo.url}/`)
      const sunsets = () => page.locator('#sunsets tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)))
      const listed = (await (await fetch(`${demo.url}/api/models`)).json()).models as { id: string; deprecation: { state: string; sunset: string; replacement?: string } | null }[]
      const expected = listed
        .filter((m) => m.deprecation?.state === 'deprecated')
        .sort((a, b) => a.deprecation!.sunset.localeCompare(b.deprecation!.sunset) || a.id.localeCompare(b.id))
        .map((m) => [m.id, m.deprecation!.sunset, String(Math.round((Date.parse(m.deprecation!.sunset) - Date.parse('2026-11-21')) / 86_400_000)), m.deprecation!.replacement ?? 'none named'])
      expect(expected.length).toBeGreaterThan(3)
      await expect.poll(sunsets, poll).toEqual(expected)
      expect(expected.slice(0, 2)).toEqual([
        ['claude-sonnet-4-5-20250929', '2026-11-30', '9', 'claude-sonnet-5-5'],
        ['gpt-5', '2026-12-11', '20', 'gpt-6.1-sol'],
      ])
      expect(page.errors).toEqual([])
    } finally {
      await demo.close()
    }
  })

  it('says when no listed model retires, and shows an experimental model\'s stability and day', async () => {
    const fixture = readFileSync(new URL('../fixtures/gateway.yaml', import.meta.url), 'utf8')
    const demo = await demoServer({ catalog: compileOk(fixture.replace(/\n {4}deprecation: .*/g, '')), env: { ACME_API_KEY: 'k', EXPOSE_EXPERIMENTAL_MODELS: 'true' } })
    try {
      const page = await browser.open(`${demo.url}/`)
      await expect.poll(() => ids(page), poll).toContain('acme-preview')
      expect(await row(page, 'acme-preview').locator('.badge').allTextContents()).toEqual(['experimental (beta, since 2026-11-01)'])
      expect(await page.locator('#sunsets-empty').textContent()).toBe('No model in this list has an announced retirement.')
      expect(await page.locator('#sunsets').isVisible()).toBe(false)
    } finally {
      await demo.close()
    }
  })

  it('with the admin token: every model, "provider not configured" where its key is unset, retired ones with their replacement', async () => {
    const demo = await demoServer({ env: { ANTHROPIC_API_KEY: '' }, now: () => NOW })
    try {
      const page = await browser.open(`${demo.url}/`)
      await expect.poll(() => ids(page), poll).toContain('gpt-5.1')
      expect((await ids(page)).filter((id) => id.startsWith('claude'))).toEqual([])
      await page.getByLabel('Admin token (optional)').fill(DEMO_ADMIN)
      await page.getByRole('button', { name: 'Use admin token' }).click()
      await expect.poll(() => ids(page), poll).toHaveLength(Object.keys(demo.gateway.catalog.models).length)
      expect(await row(page, 'claude-sonnet-4-5-20250929').locator('.badge').allTextContents()).toEqual(['deprecated: sunset 2026-11-30, use claude-sonnet-5-5', 'provider not configured', 'not listed'])
      expect(await row(page, 'gpt-4').locator('.badge').allTextContents()).toEqual(['retired since 2026-10-23, use gpt-5.5', 'inactive', 'not listed'])
      expect(await row(page, 'gpt-5.1').locator('.badge').allTextContents()).toEqual([])
      // The detail view shows the admin's fields too, status included.
      await page.getByRole('button', { name: 'claude-sonnet-4-5-20250929' }).click()
      expect(await page.getByRole('dialog').locator('dt:text-is("provider_configured") + dd').textContent()).toBe('false')
      expect(await page.getByRole('dialog').locator('dt:text-is("upstream_id") + dd').textContent()).toBe('claude-sonnet-4-5-20250929')
    } finally {
      await demo.close()
    }
  })

  it('never lets a slow earlier answer overwrite a newer one (admin token given, then forgotten at once)', async () => {
    const demo = await demoServer({ now: () => NOW })
    try {
      const page = await browser.open('about:blank')
      // Counts, in the page, each admin listing it has read and then acted on: the count moves in
      // a task queued after the read, so after every step that the answer's reading led to.
      await page.addInitScript("window.adminRead = 0; const text = Response.prototype.text; Response.prototype.text = async function () { const body = await text.call(this); if (this.url.endsWith('/api/admin/models')) setTimeout(() => window.adminRead++); return body }")
      await page.goto(`${demo.url}/`)
      await expect.poll(() => ids(page), poll).toContain('gpt-5.1')
      const publicIds = await ids(page)
      let slowAnswered = false
      await page.route('**/api/admin/models', async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 1000))
        await route.continue()
        slowAnswered = true
      })
      await page.getByLabel('Admin token (optional)').fill(DEMO_ADMIN)
      await page.getByRole('button', { name: 'Use admin token' }).click()
      await page.getByRole('button', { name: 'Forget admin token' }).click()
      await expect.poll(() => slowAnswered, poll).toBe(true)
      await expect.poll(() => page.evaluate<number>('window.adminRead'), poll).toBe(1)
      expect(await ids(page)).toEqual(publicIds)
      expect(await page.getByLabel('List experimental models').isDisabled()).toBe(true)
    } finally {
      await demo.close()
    }
  })

  it('says so when the admin API is disabled (no ADMIN_TOKEN)', async () => {
    const demo = await demoServer({ env: { ADMIN_TOKEN: '' } })
    try {
      const page = await browser.open(`${demo.url}/`)
      await expect.poll(() => ids(page), poll).toContain('gpt-5.1')
      await page.getByLabel('Admin token (optional)').fill(DEMO_ADMIN)
      await page.getByRole('button', { name: 'Use admin token' }).click()
      await expect.poll(() => page.getByRole('status').first().textContent(), poll).toBe('The admin token was refused (HTTP 403): the admin API is disabled: set ADMIN_TOKEN to enable it')
      expect(await ids(page)).toContain('gpt-5.1')
    } finally {
      await demo.close()
    }
  })

  it('says so when the admin token is wrong, and keeps the public listing', async () => {
    const demo = await demoServer({ now: () => NOW })
    try {
      const page = await browser.open(`${demo.url}/`)
      await expect.poll(() => ids(page), poll).toContain('gpt-5.1')
      const count = (await ids(page)).length
      await page.getByLabel('Admin token (optional)').fill('not-the-admin-token')
      await page.getByRole('button', { name: 'Use admin token' }).click()
      await expect.poll(() => page.getByRole('status').first().textContent(), poll).toBe('The admin token was refused (HTTP 401): a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)')
      expect(await ids(page)).toHaveLength(count)
      expect(await page.getByLabel('List experimental models').isDisabled()).toBe(true)
    } finally {
      await demo.close()
    }
  })
})

describe('experimental models', { timeout: 30_000 }, () => {
  it('appear after POST /api/config exposes them and the page reloads, with their badge', async () => {
    const demo = await demoServer({ catalog: previewCatalog })
    try {
      const page = await browser.open(`${demo.url}/`)
      await expect.poll(() => ids(page), poll).toContain('gpt-5.1')
      expect(await ids(page)).not.toContain('gpt-6-preview')
      expect(await page.locator('#experimental-state').textContent()).toBe('hidden')
      const res = await fetch(`${demo.url}/api/config`, { method: 'POST', headers: { authorization: `Bearer ${DEMO_ADMIN}`, 'content-type': 'application/json' }, body: '{"expose_experimental_models":true}' })
      expect(res.status).toBe(200)
      await page.reload()
      await expect.poll(() => ids(page), poll).toContain('gpt-6-preview')
      expect(await row(page, 'gpt-6-preview').locator('.badge').allTextContents()).toEqual(['experimental'])
      expect(await page.locator('#experimental-state').textContent()).toBe('listed')
      await page.getByLabel('Experimental', { exact: true }).selectOption('only')
      expect(await ids(page)).toEqual(['gpt-6-preview'])
    } finally {
      await demo.close()
    }
  })

  it('appear after the admin turns the toggle on, for everyone on this process', async () => {
    const demo = await demoServer({ catalog: previewCatalog })
    try {
      const page = await browser.open(`${demo.url}/`)
      await expect.poll(() => ids(page), poll).toContain('gpt-5.1')
      expect(await ids(page)).not.toContain('gpt-6-preview')
      const toggle = page.getByLabel('List experimental models')
      expect(await toggle.isDisabled()).toBe(true)
      await page.getByLabel('Admin token (optional)').fill(DEMO_ADMIN)
      await page.getByRole('button', { name: 'Use admin token' }).click()
      // The admin sees it already, marked as not listed.
      await expect.poll(() => row(page, 'gpt-6-preview').locator('.badge').allTextContents(), poll).toEqual(['experimental', 'not listed'])
      expect(await toggle.isDisabled()).toBe(false)
      await toggle.check()
      await expect.poll(() => page.getByRole('status').first().textContent(), poll).toBe('Experimental models are now listed, on this process only: other replicas keep their own setting; set EXPOSE_EXPERIMENTAL_MODELS to change them all, or share it with REDIS_URL.')
      await expect.poll(() => row(page, 'gpt-6-preview').locator('.badge').allTextContents(), poll).toEqual(['experimental'])
      expect((await (await fetch(`${demo.url}/api/config`)).json()).expose_experimental_models).toBe(true)
      // Without the admin token: the public listing now has it.
      await page.getByRole('button', { name: 'Forget admin token' }).click()
      await expect.poll(() => ids(page), poll).toHaveLength(((await (await fetch(`${demo.url}/api/models`)).json()).models as unknown[]).length)
      expect(await ids(page)).toContain('gpt-6-preview')
      expect(await row(page, 'gpt-6-preview').locator('.badge').allTextContents()).toEqual(['experimental'])
      expect(await toggle.isDisabled()).toBe(true)
      expect(await toggle.isChecked()).toBe(true)
    } finally {
      await demo.close()
    }
  })
})
