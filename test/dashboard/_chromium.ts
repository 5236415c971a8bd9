import { existsSync } from 'node:fs'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The browser the dashboard's tests drive, or why none was found. */
    chromium: { path: string; from: string } | { error: string }
  }
}

/** Debian's package; `CHROMIUM_SYSTEM_PATH=` (empty) looks past it, as on a machine without it. */
const SYSTEM_PATH = '/usr/bin/chromium'

/**
 * Where the dashboard's tests find Chromium: `CHROMIUM_PATH`, then Debian's `/usr/bin/chromium`,
 * then the build that the `@sparticuz/chromium` dev dependency ships inside its npm package
 * (unpacked once into the temporary folder; nothing is downloaded, no install script runs).
 */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<{ path: string; from: string }> {
  if (env.CHROMIUM_PATH) return { path: env.CHROMIUM_PATH, from: 'CHROMIUM_PATH' }
  const system = env.CHROMIUM_SYSTEM_PATH ?? SYSTEM_PATH
  if (system && existsSync(system)) return { path: system, from: 'the system' }
  const { default: bundled } = await import('@sparticuz/chromium')
  return { path: await bundled.executablePath(), from: '@sparticuz/chromium' }
}

/**
 * Vitest's global setup: finds the browser once per run, before the test files start in
 * parallel (the bundled build is unpacked by one process, never by several at once).
 */
export default async function setup(project: TestProject): Promise<void> {
  try {
    project.provide('chromium', await findChromium())
  } catch (error) {
    project.provide('chromium', { error: (error as Error).message })
  }
}
