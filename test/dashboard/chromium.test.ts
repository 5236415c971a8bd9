import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { findChromium } from './_chromium.ts'

describe('the dashboard tests find a browser', () => {
  it('named by CHROMIUM_PATH first', async () => {
    expect(await findChromium({ CHROMIUM_PATH: '/opt/chrome/chrome' })).toEqual({ path: '/opt/chrome/chrome', from: 'CHROMIUM_PATH' })
  })

  it('then in the npm package when the system has none (as on a new machine)', async () => {
    const found = await findChromium({ CHROMIUM_SYSTEM_PATH: '/nonexistent/chromium' })
    expect(found.from).toBe('@sparticuz/chromium')
    expect(existsSync(found.path)).toBe(true)
  })
})
