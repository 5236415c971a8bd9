import { describe, expect, it } from 'vitest'
import { Redactor } from '../../src/redact.ts'
import { Stats } from '../../src/stats.ts'
import { accessLog, causes } from '../../src/steps/access-log.ts'
import { NOW } from '../_setup.ts'
import { stepApp } from './_app.ts'

describe('the access-log step', () => {
  it('counts each answer by route pattern and logs one JSON line, every secret replaced', async () => {
    const lines: string[] = []
    const stats = new Stats(() => NOW)
    const log = accessLog({ log: (l) => lines.push(l), secrets: new Redactor(['sk-secret-0123456789']), debug: true, nowMs: () => NOW.getTime(), stats })
    const request = stepApp((event) => {
      event.context.headers = { 'x-request-id': 'r-1' }
      event.context.failure = 'upstream said sk-secret-0123456789'
      log(event, new Response(null, { status: 204 }), performance.now())
    })
    await request('/open?x=1', { headers: { authorization: 'Bearer sk-secret-0123456789', accept: 'text/plain' } })
    expect(lines).toHaveLength(1)
    const line = JSON.parse(lines[0]!)
    expect(line).toMatchObject({ time: NOW.toISOString(), request_id: 'r-1', method: 'GET', path: '/open', status: 204, error: 'upstream said [redacted]' })
    expect(line.headers).toMatchObject({ authorization: '[redacted]', accept: 'text/plain' })
    expect(stats.snapshot(NOW)).toMatchObject({ requests: 1, errors: 0 })
  })

  it('writes each line\'s time to the millisecond, across seconds and days', async () => {
    const lines: string[] = []
    let now = new Date('2026-12-31T23:59:59.000Z')
    const log = accessLog({ log: (l) => lines.push(l), secrets: new Redactor([]), debug: false, nowMs: () => now.getTime(), stats: new Stats(() => now) })
    const request = stepApp((event) => log(event, new Response(null, { status: 204 }), performance.now()))
    const times = ['2026-12-31T23:59:59.000Z', '2026-12-31T23:59:59.007Z', '2026-12-31T23:59:59.007Z', '2026-12-31T23:59:59.042Z', '2026-12-31T23:59:59.999Z', '2027-01-01T00:00:00.100Z', '2026-06-01T12:00:00.005Z', '+010000-01-01T00:00:00.005Z', '1969-12-31T23:59:59.999Z']
    for (const time of times) {
      now = new Date(time)
      await request('/open')
    }
    expect(lines.map((l) => JSON.parse(l).time)).toEqual(times)
  })

  it('writes each request\'s own method and path, whatever came before it', async () => {
    const lines: string[] = []
    const log = accessLog({ log: (l) => lines.push(l), secrets: new Redactor([]), debug: false, nowMs: () => NOW.getTime(), stats: new Stats(() => NOW) })
    const request = stepApp((event) => log(event, new Response(null, { status: 204 }), performance.now()))
    const asked = [['GET', '/open'], ['GET', '/open'], ['POST', '/open'], ['GET', '/public'], ['GET', '/a%22b'], ['DELETE', '/public'], ['GET', '/open']] as const
    for (const [method, path] of asked) await request(path, { method })
    expect(lines.map((l) => JSON.parse(l)).map((l) => [l.method, l.path])).toEqual(asked)
  })

  it('tells an error by its causes, each said once', () => {
    const error = new Error('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', cause: new Error('connect ECONNREFUSED') }) })
    expect(causes(error)).toBe('fetch failed <- connect ECONNREFUSED')
  })
})
