// What every reliability scenario runs on: the shipped server in its own process (memory read
// after GC over IPC), the mock upstream in this one (what it saw, when each request closed),
// socket states from /proc, and the figures a scenario reports.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { nodeHandler } from '../../src/node-handler.ts'
import { demoEnv } from '../../scripts/demo.ts'
import { catalog } from '../../src/catalog/catalog.generated.ts'
import { createMockUpstream } from '../../src/mock/app.ts'
import { post } from './client.ts'
import type { MockOptions, MockUpstream } from '../../src/mock/app.ts'

const ROOT = new URL('../../', import.meta.url)

/** The demo's provider keys: the mock checks them, and they must appear in no log line. */
export const KEYS = { openai: demoEnv('').OPENAI_API_KEY!, anthropic: demoEnv('').ANTHROPIC_API_KEY! }

/** One scenario's figures, a row of the closing table. */
export interface Figures {
  scenario: string
  sent: number
  completed: number
  /** Given up by the client on purpose. */
  aborted: number
  /** Neither complete nor aborted on purpose, or not byte for byte what was expected: must be 0. */
  lost: number
  /** Upstream requests the mock still has open after the scenario: must be 0. */
  upstreamOpen: number
  heapBefore: number
  heapAfter: number
  rssBefore: number
  rssAfter: number
  /** Gateway sockets (to clients or the upstream) left in CLOSE_WAIT: must be 0. */
  closeWait: number
  /** Anything else the scenario measured, as one line. */
  detail: string
  /** Failed expectations, each a sentence; none when the scenario passed. */
  failures: string[]
}

/** The mock upstream on a real server on port 0 (checking the demo's keys unless told otherwise). */
export async function startMock(options: MockOptions = { keys: KEYS }): Promise<MockUpstream & { url: string; port: number; server: Server; close(): Promise<void> }> {
  const mock = createMockUpstream(options)
  const server = createServer(nodeHandler(mock.app))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const close = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())))
  return { ...mock, url: `http://127.0.0.1:${port}`, port, server, close }
}

export interface Memory {
  heapUsed: number
  rss: number
  arrayBuffers: number
}

export interface GatewayProcess {
  readonly url: string
  readonly port: number
  readonly child: ChildProcess
  /** Log lines the gateway wrote so far. */
  readonly lines: string[]
  /** Heap, RSS and the memory of Buffers (outside the heap) after a full GC. */
  memory(): Promise<Memory>
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>
  stop(): Promise<void>
}

/**
 * The shipped server (`src/server.ts`, the shipped catalog; or `entry`) in its own process, every
 * provider pointed at `mockUrl` as the demo does, with `env` on top; resolves once it listens.
 */
export async function startGateway(mockUrl: string, env: Record<string, string> = {}, entry = 'src/server.ts'): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', './test/reliability/probe.ts', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...demoEnv(mockUrl), PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  const lines: string[] = []
  const stderr: string[] = []
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const port = await within(30_000, 'the gateway to listen', new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line)
      if (line.includes('"message":"listening"')) resolve((JSON.parse(line) as { port: number }).port)
    })
    void exited.then((code) => reject(new Error(`the gateway exited (${code}) before listening: ${stderr.join('')}`)))
  }))
  const memory = () =>
    within(10_000, 'the gateway to report its memory', new Promise<Memory>((resolve) => {
      child.once('message', (m) => resolve(m as Memory))
      child.send('memory')
    }))
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
  }
  return { url: `http://127.0.0.1:${port}`, port, child, lines, memory, exited, stop }
}

/** TCP sockets on 127.0.0.1 by state, for the gateway: those on its port and those it opened to the mock. */
export function gatewaySockets(gatewayPort: number, mockPort: number): { established: number; closeWait: number; toUpstream: number } {
  const out = { established: 0, closeWait: 0, toUpstream: 0 }
  for (const row of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const [, local, remote, state] = row.trim().split(/\s+/)
    if (!local || !remote) continue
    const localPort = Number.parseInt(local.split(':')[1]!, 16)
    const remotePort = Number.parseInt(remote.split(':')[1]!, 16)
    const mine = localPort === gatewayPort || remotePort === mockPort
    if (!mine) continue
    if (state === '01') out.established++
    if (state === '08') out.closeWait++
    if (state === '01' && remotePort === mockPort) out.toUpstream++
  }
  return out
}

/** Requests the mock still has open, after waiting up to `ms` for them to close. */
export async function openUpstream(mock: MockUpstream, ms = 2000): Promise<number> {
  const until = performance.now() + ms
  let open = mock.seen.filter((s) => !s.closed).length
  while (open > 0 && performance.now() < until) {
    await sleep(25)
    open = mock.seen.filter((s) => !s.closed).length
  }
  return open
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** `promise`, or an error saying what did not happen within `ms` (no wait in the suite is unbounded). */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms)))
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** A scenario gets a fresh mock upstream and says whether it is a quick run. */
export type Scenario = (ctx: { mock: Awaited<ReturnType<typeof startMock>>; quick: boolean }) => Promise<Figures>

/** A prompt of `words` words after `tag`, so that the mock's record of it can be found. */
export const prompt = (tag: string, words: number) => `${tag} ${Array.from({ length: words }, (_, i) => `w${i}`).join(' ')}`

/** A chat request body with `prompt(tag, words)`; streamed ones ask for usage (so OpenAI's pass through untouched). */
export function chat(model: string, tag: string, words: number, stream: boolean): Record<string, unknown> {
  return { model, stream, ...(stream ? { stream_options: { include_usage: true } } : {}), messages: [{ role: 'user', content: prompt(tag, words) }] }
}

/**
 * `count` calls (both providers, streamed and not, 20 at a time), so that a baseline of memory
 * is taken after the first loads and compilations rather than before them.
 */
export async function warmUp(gw: GatewayProcess, count = 200): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < count) {
      const i = next++
      const o = await post(`${gw.url}/v1/chat/completions`, chat(i % 2 ? MODELS.anthropic : MODELS.openai, `warm${i}`, 20, i % 4 < 2))
      if (o.status !== 200) throw new Error(`warm-up call ${i} failed: ${o.status} ${o.error ?? o.body.slice(0, 200)}`)
    }
  }))
}

/**
 * How a scenario ends: the upstream given time to close what it should, the gateway's memory
 * after GC and its sockets read, its log checked for keys (and the heap held to `heapLimit`,
 * a share of the baseline, when given), the gateway stopped. Returns the figures every scenario
 * reports, with the sockets and heap growth for its own checks.
 */
export async function conclude(gw: GatewayProcess, mock: Awaited<ReturnType<typeof startMock>>, before: Memory, failures: string[], heapLimit?: number) {
  const upstreamOpen = await openUpstream(mock)
  const after = await gw.memory()
  const sockets = gatewaySockets(gw.port, mock.port)
  const growth = (after.heapUsed - before.heapUsed) / before.heapUsed
  if (heapLimit !== undefined && growth > heapLimit) failures.push(`heap after GC grew ${(growth * 100).toFixed(1)}% (limit ${heapLimit * 100}%)`)
  if (keyInLogs(gw.lines)) failures.push('a provider key appeared in the gateway log')
  await gw.stop()
  const figures = { upstreamOpen, heapBefore: before.heapUsed, heapAfter: after.heapUsed, rssBefore: before.rss, rssAfter: after.rss, closeWait: sockets.closeWait }
  return { figures, sockets, growth }
}

/** A change as a signed percentage, for a scenario's detail line. */
export const percent = (share: number) => `${share >= 0 ? '+' : ''}${(share * 100).toFixed(1)}%`

/** Whether any of the gateway's log lines holds one of the provider keys. */
export function keyInLogs(lines: readonly string[]): boolean {
  return lines.some((l) => l.includes(KEYS.openai) || l.includes(KEYS.anthropic))
}

/** Megabytes, for the table. */
export const mb = (bytes: number) => (Number.isNaN(bytes) ? '-' : (bytes / 1024 / 1024).toFixed(1))

/** Models the scenarios call: an OpenAI pass-through and an Anthropic translation, both in the shipped catalog. */
export const MODELS = { openai: 'gpt-5.1', anthropic: 'claude-sonnet-4-6' } as const
/** The fallbacks `fallback-server.ts` declares: what the catalog's build rules allow (each serves chat, no cycle). */
export const FALLBACKS: Readonly<Record<string, readonly string[]>> = { [MODELS.openai]: [MODELS.anthropic, 'gpt-5.4-mini'], [MODELS.anthropic]: ['gpt-5.4-mini'] }
for (const id of [...Object.values(MODELS), ...Object.values(FALLBACKS).flat()]) if (!Object.hasOwn(catalog.models, id)) throw new Error(`the reliability suite calls ${id}, which models.yaml no longer has`)

/** The mock's record of the latest request. */
export function seenLast(mock: MockUpstream) {
  const s = mock.seen.at(-1)
  if (!s) throw new Error('the mock has seen no request')
  return s
}
