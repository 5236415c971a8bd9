import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { nodeHandler } from '../../src/node-handler.ts'
import OpenAI from 'openai'
import { compileTeams } from '../../scripts/compiler/teams.ts'
import { createApp } from '../../src/app.ts'
import type { Policy } from '../../src/policy/types.ts'
import { ACME_KEY, ADMIN, CLAUDE_KEY, proxyCatalog } from '../_setup.ts'

/** The canary keys of test/fixtures/teams.yaml's teams (which holds only their hashes). */
export const TEAM_KEYS = { alpha: 'team-alpha-canary-0123456789', beta: 'team-beta-canary-0123456789', gamma: 'team-gamma-canary-0123456789', delta: 'team-delta-canary-0123456789' } as const

/** test/fixtures/teams.yaml compiled against the proxy catalog. */
export const teamsPolicy: Policy = (() => {
  const result = compileTeams(readFileSync(new URL('../fixtures/teams.yaml', import.meta.url), 'utf8'), proxyCatalog)
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.line}:${e.col}: ${e.message}`).join('\n'))
  return result.policy
})()

/** A clock that moves only when told. */
export function testClock(start: Date) {
  let at = start.getTime()
  return { now: () => new Date(at), advance: (ms: number) => void (at += ms) }
}

/** The gateway on the proxy catalog with the fixture's teams, pointed at `mock`, behind a real server. */
export async function teamsServer(mock: { url: string }, options: { env?: Record<string, string>; now?: () => Date; policy?: Policy } = {}) {
  const logs: string[] = []
  const { app, gateway } = createApp({
    catalog: proxyCatalog,
    env: { ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY, ACME_BASE_URL: `${mock.url}/v1`, CLAUDE_BASE_URL: mock.url, LOCAL_BASE_URL: `${mock.url}/v1`, ADMIN_TOKEN: ADMIN, ...options.env },
    now: options.now,
    log: (line) => logs.push(line),
    policy: options.policy ?? teamsPolicy,
  })
  const server = createServer(nodeHandler(app))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const client = (team: keyof typeof TEAM_KEYS, maxRetries = 0) => new OpenAI({ baseURL: `${url}/v1`, apiKey: TEAM_KEYS[team], maxRetries })
  const close = async () => {
    await gateway.close()
    await new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())))
  }
  return { app, gateway, logs, url, client, close }
}
