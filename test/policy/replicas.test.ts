import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACME_KEY, ADMIN, CLAUDE_KEY, mockServer, until, untilAnswered } from '../_setup.ts'
import { redisServer } from '../../scripts/redis-server.ts'
import { TEAM_KEYS, teamsPolicy } from './_teams.ts'

// Two (and a third, closed) gateway replicas as processes of their own, one redis-server and one
// mock upstream: the limits, budgets and the runtime switch must hold across the replicas.
// A canary: REDIS_URL carries it, and no output may.
const REDIS_PASSWORD = 'redis-canary-password-0123456789'
let redis: Awaited<ReturnType<typeof redisServer>>
let mock: Awaited<ReturnType<typeof mockServer>>
const replicas: { url: string; output: () => string; stop: () => Promise<void> }[] = []

async function replica(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./_replica.ts', import.meta.url).pathname], {
    env: { ...process.env, PORT: '0', ADMIN_TOKEN: ADMIN, ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY, ACME_BASE_URL: `${mock.url}/v1`, CLAUDE_BASE_URL: mock.url, LOCAL_BASE_URL: `${mock.url}/v1`, REDIS_URL: redis.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d))
  child.stderr.on('data', (d: Buffer) => (output += d))
  await until(() => output.includes('"listening"') || child.exitCode !== null, 'a replica to listen', 20_000)
  const url = JSON.parse(output.split('\n').find((l) => l.includes('"listening"'))!).url.replace(/\/$/, '') as string
  const r = { url, output: () => output, stop: async () => void (child.exitCode === null && child.signalCode === null && (child.kill('SIGTERM'), await once(child, 'exit'))) }
  replicas.push(r)
  return r
}

const chat = (url: string, team: keyof typeof TEAM_KEYS, content = 'hi') =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${TEAM_KEYS[team]}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content }] }) })

let a: Awaited<ReturnType<typeof replica>>
let b: Awaited<ReturnType<typeof replica>>
beforeAll(async () => {
  redis = await redisServer({ password: REDIS_PASSWORD })
  mock = await mockServer()
  ;[a, b] = await Promise.all([replica({}), replica({})])
}, 60_000)
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()))
  await mock.close()
  await redis.stop()
})

describe('limits and the switch across replicas (Redis)', { timeout: 60_000 }, () => {
  it('an rpm of 5 lets exactly 5 requests through across both replicas', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(i % 2 ? a.url : b.url, 'alpha').then(async (r) => (await r.arrayBuffer(), r.status))))
    expect(answers.filter((s) => s === 200)).toHaveLength(5)
    expect(answers.filter((s) => s === 429)).toHaveLength(7)
  })

  it('a budget stops spending within one request of it, wherever the requests land', async () => {
    let statuses: number[] = []
    for (let i = 0; i < 10 && !statuses.includes(429); i++) statuses = [...statuses, await chat(i % 2 ? a.url : b.url, 'beta', `call ${i}`).then(async (r) => (await r.arrayBuffer(), r.status))]
    expect(statuses.at(-1)).toBe(429)
    // Each call costs about half the budget: two get through, the third is refused.
    expect(statuses).toEqual([200, 200, 429])
  })

  it('the runtime switch set on one replica reaches the other', async () => {
    const listed = async (url: string) => ((await (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${TEAM_KEYS.gamma}` } })).json()).data as { id: string }[]).map((m) => m.id)
    expect(await listed(b.url)).not.toContain('chat-preview')
    const set = await fetch(`${a.url}/api/config`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ expose_experimental_models: true }) })
    expect(await set.json()).toMatchObject({ expose_experimental_models: true, applied_to: 'every replica: the setting is shared through Redis (REDIS_URL)' })
    await untilAnswered(async () => (await listed(b.url)).includes('chat-preview'), 'the other replica to list the experimental model')
  })

  it('Redis down: an open replica serves and counts the failure, a closed one answers 503; both recover', async () => {
    const closed = await replica({ LIMITS_ON_STORE_FAILURE: 'closed' })
    expect((await chat(closed.url, 'gamma')).status).toBe(200) // gamma has no limits: no store call
    await redis.stop()
    const open = await chat(a.url, 'delta')
    expect(open.status).toBe(200)
    const refused = await chat(closed.url, 'delta')
    expect(refused.status).toBe(503)
    expect((await refused.json()).error).toMatchObject({ code: 'limits_unavailable', message: 'The limits store (Redis) cannot be reached, and LIMITS_ON_STORE_FAILURE=closed refuses requests until it is back.' })
    expect(await (await fetch(`${a.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()).toMatch(/^gateway_limits_store_failures_total [1-9]/m)
    await redis.start()
    await untilAnswered(async () => (await chat(closed.url, 'delta')).status === 200, 'the closed replica to serve again once Redis is back', 15_000)
  })

  it('no key, key hash, provider key or Redis password in any replica\'s output', async () => {
    await Promise.all(replicas.map((r) => r.stop())) // all they wrote, flushed
    const everything = replicas.map((r) => r.output()).join('\n')
    expect(everything).toContain('limits store failed') // the failure above is logged
    for (const [team, key] of Object.entries(TEAM_KEYS)) {
      expect(everything).not.toContain(key)
      for (const hash of teamsPolicy.teams[team]!.keys_sha256) expect(everything).not.toContain(hash)
    }
    for (const secret of [ACME_KEY, CLAUDE_KEY, ADMIN, REDIS_PASSWORD]) expect(everything).not.toContain(secret)
  })
})
