import { mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { nodeHandler } from '../../src/node-handler.ts'
import { chromium } from 'playwright-core'
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, inject } from 'vitest'
import { parseDocument } from 'yaml'
import { demoEnv, demoMock } from '../../scripts/demo.ts'
import { createApp } from '../../src/app.ts'
import { catalog as shipped } from '../../src/catalog/catalog.generated.ts'
import type { Catalog } from '../../src/catalog/types.ts'
import { compileCatalog, formatError } from '../../scripts/compiler/compile.ts'
import { NOW } from '../_setup.ts'

/** The demo's admin token. */
export const DEMO_ADMIN = 'demo-admin-token-0123'

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Where test artifacts (the screenshot) go; CI uploads the folder. */
export const ARTIFACTS = new URL('../artifacts/', import.meta.url)

/**
 * The shipped catalog plus `gpt-6-preview`, a new experimental model as `npm run catalog -- add`
 * makes one (the shipped catalog has no experimental model to show).
 */
export const previewCatalog: Catalog = (() => {
  const doc = parseDocument(readFileSync(new URL('../../models.yaml', import.meta.url), 'utf8'))
  doc.setIn(['models', 'gpt-6-preview'], doc.createNode({
    name: 'GPT-6 Preview', provider: 'openai', kind: 'reasoning', apis: ['chat', 'responses'], capabilities: ['reasoning', 'streaming'],
    temperatures: [1], context_window: 400000, experimental: true,
  }))
  // The shipped catalog's facts are checked against the real day (as the build does), not the tests' clock.
  const result = compileCatalog(doc.toString(), 'models.yaml', new Date())
  if (!result.ok) throw new Error(result.errors.map(formatError).join('\n'))
  return result.catalog
})()

/** What a demo gateway is built from; everything optional. */
export interface DemoOptions {
  readonly catalog?: Catalog
  /** Added to the demo's environment; a key set to '' unsets it. */
  readonly env?: Record<string, string>
  /** The gateway's clock. Default: the tests' day (NOW), so that the shipped catalog's sunsets do not move the tests. */
  readonly now?: () => Date
}

/** The demo (mock upstream + gateway on the shipped catalog) on real servers on port 0. */
export async function demoServer(options: DemoOptions = {}) {
  const mock = createServer(nodeHandler(demoMock().app))
  await new Promise<void>((resolve) => mock.listen(0, '127.0.0.1', resolve))
  const env: Record<string, string> = { ...demoEnv(`http://127.0.0.1:${(mock.address() as AddressInfo).port}`), ...options.env }
  for (const [k, v] of Object.entries(env)) if (v === '') delete env[k]
  const { app, gateway } = createApp({ catalog: options.catalog ?? shipped, env, now: options.now ?? (() => NOW), log: () => {} })
  const server = createServer(nodeHandler(app))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const stop = (s: typeof server) => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())))
  return { url, gateway, close: async () => (await stop(server), await stop(mock)) }
}

/**
 * For a test file: one headless Chromium, launched before its tests and closed after. When it
 * cannot start, every test that opens a page fails with the reason: nothing is skipped.
 */
export function useBrowser() {
  const ctx = {} as { browser?: Browser; failure?: Error }
  // Each test's pages are closed after it, so that their polling does not load the next tests.
  const contexts: BrowserContext[] = []
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()))
  })
  beforeAll(async () => {
    // Found once for the whole run by ./_chromium.ts (CHROMIUM_PATH, /usr/bin/chromium, the npm package's).
    const found = inject('chromium')
    if ('error' in found) {
      ctx.failure = new Error(`No Chromium was found (set CHROMIUM_PATH): ${found.error}`)
      return
    }
    try {
      ctx.browser = await chromium.launch({ executablePath: found.path, args: ARGS, headless: true })
    } catch (error) {
      ctx.failure = new Error(`Chromium did not start from ${found.path} (found through ${found.from}): ${(error as Error).message}`)
    }
  }, 30_000)
  afterAll(async () => {
    await ctx.browser?.close()
  })
  return {
    /** A fresh page (own context: own session storage) at `url`, its uncaught errors and CSP violations collected in `errors`. */
    async open(url: string, options: BrowserContextOptions = {}): Promise<Page & { errors: string[] }> {
      if (!ctx.browser) throw ctx.failure ?? new Error('the browser is not running')
      const context = await ctx.browser.newContext(options)
      contexts.push(context)
      const page = Object.assign(await context.newPage(), { errors: [] as string[] })
      page.on('pageerror', (error) => page.errors.push(error.message))
      // Anything the page's Content-Security-Policy blocked is reported on the console.
      page.on('console', (message) => void (/Content.Security.Policy/i.test(message.text()) && page.errors.push(message.text())))
      await page.goto(url)
      return page
    },
  }
}

/** Saves a screenshot of `page` as test/artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true })
}
