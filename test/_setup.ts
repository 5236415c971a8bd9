import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { nodeHandler } from '../src/node-handler.ts'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { stringify } from 'yaml'
import { createApp } from '../src/app.ts'
import { createMockUpstream } from '../src/mock/app.ts'
import type { MockOptions } from '../src/mock/app.ts'
import { compileCatalog } from '../scripts/compiler/compile.ts'
import type { Catalog, Model } from '../src/catalog/types.ts'
import { openaiFeed, openaiStream } from '../src/protocols/openai.ts'
import { sseBytes } from '../src/protocols/sse.ts'
import { accounted, accountedFeed } from '../src/routing/accounting.ts'
import type { Stats } from '../src/stats.ts'
import { bodyFeed } from '../src/transport/client.ts'
import type { Upstream } from '../src/transport/client.ts'

/** A valid provider; tests override one field at a time. */
export const baseProvider = {
  name: 'Test',
  protocol: 'openai',
  base_url: 'http://127.0.0.1:9/v1',
  api_key_env: 'TEST_API_KEY',
  endpoint_type: 'openAI',
}

/** A valid chat model; tests override one field at a time. */
export const baseModel = {
  name: 'Chat',
  provider: 'test',
  kind: 'chat',
  apis: ['chat'],
  context_window: 32000,
  max_output: 8000,
  released: '2025-01-01',
  pricing: { input: 1, output: 2 },
}

interface Overrides {
  readonly provider?: Record<string, unknown>
  readonly model?: Record<string, unknown>
  readonly models?: Record<string, unknown>
  readonly patterns?: readonly unknown[]
  readonly weighted_aliases?: Record<string, unknown>
}

/**
 * Catalog YAML with one provider `test` and one model `m1` (overridden by `model`), then any
 * extra `models`, `patterns` and `weighted_aliases`. Layout is fixed, so errors have stable positions:
 * line 2 is provider `test` (its fields from line 3), line 9 model `m1` (its fields from line 10).
 */
export function catalogYaml(o: Overrides = {}): string {
  const data: Record<string, unknown> = {
    providers: { test: { ...baseProvider, ...o.provider } },
    models: { m1: { ...baseModel, ...o.model }, ...o.models },
  }
  if (o.patterns) data.patterns = o.patterns
  if (o.weighted_aliases) data.weighted_aliases = o.weighted_aliases
  return stringify(data, { collectionStyle: 'block', aliasDuplicateObjects: false })
}

/** Compiles YAML that must be valid (on the tests' day, NOW); throws with the errors otherwise. */
export function compileOk(text: string): Catalog {
  const result = compileCatalog(text, 'models.yaml', NOW)
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.line}:${e.col}: ${e.subject}: ${e.message}`).join('\n'))
  return result.catalog
}

/** The formatted errors of YAML that must be invalid (on the tests' day, NOW). */
export function compileErrors(text: string): string[] {
  const result = compileCatalog(text, 'models.yaml', NOW)
  if (result.ok) throw new Error('expected errors, but the catalog compiled')
  return result.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.subject}: ${e.message}`)
}

/** The tests' clock: 2026-11-21T12:00:00Z. */
export const NOW = new Date('2026-11-21T12:00:00Z')

/** Secrets long enough for the gateway to accept; canaries, never real keys. */
export const ADMIN = 'admin-canary-0123456789abcdef'
export const CLIENT_KEY = 'client-canary-0123456789abcdef'

/** The catalog of test/fixtures/gateway.yaml. */
export const gatewayCatalog = compileOk(readFileSync(new URL('./fixtures/gateway.yaml', import.meta.url), 'utf8'))

/** An app on the fixture catalog at NOW with `env`; its log lines are collected in `logs`. */
export function testApp(env: Record<string, string> = {}) {
  const logs: string[] = []
  const { app, gateway } = createApp({ catalog: gatewayCatalog, env, now: () => NOW, log: (line) => logs.push(line) })
  const request = (path: string, init?: RequestInit) => Promise.resolve(app.fetch(new Request(`http://gateway.test${path}`, init)))
  return { app, gateway, logs, request }
}

/** The same app behind a real HTTP server on port 0, for the official clients. */
export async function testServer(env: Record<string, string> = {}) {
  const t = testApp(env)
  const server = createServer(nodeHandler(t.app))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { ...t, url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

/** Canary provider keys: they must reach the mock and appear in nothing a client or log sees. */
export const ACME_KEY = 'sk-acme-canary-7f3a9c1e5b'
export const CLAUDE_KEY = 'sk-ant-canary-2d8e4f6a0c'

/** The mock upstream behind a real HTTP server on port 0. */
export async function mockServer(options: MockOptions = { keys: { openai: ACME_KEY, anthropic: CLAUDE_KEY } }) {
  const mock = createMockUpstream(options)
  const server = createServer(nodeHandler(mock.app))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { ...mock, url, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) }
}

/** The catalog of test/fixtures/proxy.yaml. */
export const proxyCatalog = compileOk(readFileSync(new URL('./fixtures/proxy.yaml', import.meta.url), 'utf8'))

/** The gateway on the proxy fixture, every provider pointed at `mock`, behind a real server. */
export async function proxyServer(mock: { url: string }, env: Record<string, string> = {}) {
  const logs: string[] = []
  const { app, gateway } = createApp({
    catalog: proxyCatalog,
    env: { ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY, ACME_BASE_URL: `${mock.url}/v1`, CLAUDE_BASE_URL: mock.url, LOCAL_BASE_URL: `${mock.url}/v1`, ...env },
    now: () => NOW,
    log: (line) => logs.push(line),
  })
  const server = createServer(nodeHandler(app))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { app, gateway, logs, url, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) }
}

/**
 * For a test file: the mock upstream (keys checked), a keyless one for the `local` provider, the
 * gateway pointed at them with `env`, and an openai client on it; started before the file's
 * tests, closed after, and the mocks' records cleared before each test. Read it inside tests.
 */
export function useProxy(env: Record<string, string> = {}) {
  const ctx = {} as { mock: Awaited<ReturnType<typeof mockServer>>; local: Awaited<ReturnType<typeof mockServer>>; gw: Awaited<ReturnType<typeof proxyServer>>; client: OpenAI }
  beforeAll(async () => {
    ctx.mock = await mockServer()
    ctx.local = await mockServer({})
    ctx.gw = await proxyServer(ctx.mock, { LOCAL_BASE_URL: `${ctx.local.url}/v1`, ...env })
    ctx.client = new OpenAI({ baseURL: `${ctx.gw.url}/v1`, apiKey: 'client-key-not-forwarded', maxRetries: 0 })
  })
  afterAll(async () => {
    await ctx.gw.close()
    await ctx.mock.close()
    await ctx.local.close()
  })
  beforeEach(() => {
    ctx.mock.seen.length = 0
    ctx.local.seen.length = 0
  })
  return ctx
}

export { until, untilAnswered } from './_until.ts'

const root = new URL('../', import.meta.url).pathname
// What `npm start` runs once its prestart step has compiled the catalog (as npm test has).
const [command, ...args] = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')).scripts.start as string).split(' ') as [string, ...string[]]

/** Starts the gateway process as `npm start` does, with `env` added: its output, its URL once listening, its exit code. */
export function startServer(env: Record<string, string>) {
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (err += d))
  const exited = once(child, 'exit').then(([code]) => code as number)
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const line = out.split('\n').find((l) => l.includes('"listening"'))
      if (line) resolve(JSON.parse(line).url as string)
    })
    void exited.then((code) => reject(new Error(`exited with ${code}: ${err}`)))
  })
  listening.catch(() => {}) // a test that expects the exit reads `exited` instead
  return { child, listening, exited, output: () => ({ out, err }) }
}

/** An OpenAI stream as the gateway passes it to an OpenAI client: read, accounted, written out. */
export async function* passThrough(stats: Stats, model: Model, body: AsyncIterable<Uint8Array>, includeUsage: boolean, up: Upstream, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  for await (const batch of accounted(stats, model, openaiStream(body, up), includeUsage, signal)) yield sseBytes(batch)
}

/** The same as the completion hot path passes it (pushed, as feeds): every piece written out, once it ended. */
export function passThroughFed(stats: Stats, model: Model, pieces: readonly Uint8Array[], includeUsage: boolean, up: Upstream, signal: AbortSignal): Promise<Uint8Array[]> {
  const body = Readable.from(pieces.map((p) => Buffer.from(p)), { objectMode: false }) as unknown as Parameters<typeof bodyFeed>[0]
  const out: Uint8Array[] = []
  return new Promise((resolve, reject) => {
    void accountedFeed(stats, model, openaiFeed(bodyFeed(body, up), up), includeUsage, signal).start({ next: (batch) => out.push(sseBytes(batch)), done: () => resolve(out), fail: reject })
  })
}
