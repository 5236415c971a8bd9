import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Finds the dashboard tests' Chromium once, before the files run in parallel.
    globalSetup: ['test/dashboard/_chromium.ts'],
  },
})
