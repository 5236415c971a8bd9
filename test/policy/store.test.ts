import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisStore } from '../../src/policy/redis-store.ts'
import { MemoryStore } from '../../src/policy/store.ts'
import type { LimitStore } from '../../src/policy/store.ts'
import { until } from '../_setup.ts'
import { redisServer } from '../../scripts/redis-server.ts'

let redis: Awaited<ReturnType<typeof redisServer>>
const opened: LimitStore[] = []
beforeAll(async () => {
  redis = await redisServer()
})
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()))
  await redis.stop()
})

const stores: [string, () => Promise<LimitStore>][] = [
  ['memory', async () => new MemoryStore()],
  ['redis', async () => {
    const s = await redisStore(redis.url, () => {}) // failures are what the tests below look at
    opened.push(s)
    return s
  }],
]
let n = 0
const key = () => `test:${++n}`
const T = 1_800_000_000_000 // a fixed clock: every figure below is exact

describe.each(stores)('the %s store', (_, make) => {
  it('lets a bucket\'s capacity through, then refuses until it refills at capacity per minute', async () => {
    const s = await make()
    const k = key()
    const at = (ms: number) => s.reserve({ now: T + ms, buckets: [{ key: k, capacity: 3, cost: 1 }] })
    expect(await at(0)).toEqual({ result: 'ok', tokens: [2], spent: 0, limitedBy: -1 })
    expect((await at(0)).tokens).toEqual([1])
    expect((await at(0)).tokens).toEqual([0])
    expect(await at(0)).toEqual({ result: 'limited', tokens: [0], spent: 0, limitedBy: 0 })
    expect(await at(19_999)).toMatchObject({ result: 'limited' })
    expect(await at(20_000)).toEqual({ result: 'ok', tokens: [0], spent: 0, limitedBy: -1 }) // 3 per minute: one every 20 s
  })

  it('peeks at what buckets hold without drawing: full when never used, refilled with time', async () => {
    const s = await make()
    const [used, fresh] = [key(), key()]
    await s.reserve({ now: T, buckets: [{ key: used, capacity: 6, cost: 4 }] })
    expect(await s.peek(T + 10_000, [{ key: used, capacity: 6 }, { key: fresh, capacity: 6 }])).toEqual([3, 6])
    expect(await s.peek(T + 10_000, [{ key: used, capacity: 6 }])).toEqual([3])
  })

  it('draws from every bucket or from none', async () => {
    const s = await make()
    const [a, b] = [key(), key()]
    const both = () => s.reserve({ now: T, buckets: [{ key: a, capacity: 10, cost: 1 }, { key: b, capacity: 100, cost: 60 }] })
    expect(await both()).toEqual({ result: 'ok', tokens: [9, 40], spent: 0, limitedBy: -1 })
    expect(await both()).toEqual({ result: 'limited', tokens: [9, 40], spent: 0, limitedBy: 1 }) // b lacks 60: a keeps its 9
  })

  it('passes a cost above the capacity when the bucket is full, leaving it in debt', async () => {
    const s = await make()
    const k = key()
    expect(await s.reserve({ now: T, buckets: [{ key: k, capacity: 100, cost: 250 }] })).toEqual({ result: 'ok', tokens: [-150], spent: 0, limitedBy: -1 })
    expect((await s.reserve({ now: T + 60_000, buckets: [{ key: k, capacity: 100, cost: 1 }] })).result).toBe('limited') // -150 + 100
  })

  it('settles: puts back what the estimate took beyond the usage, or takes what it missed', async () => {
    const s = await make()
    const k = key()
    await s.reserve({ now: T, buckets: [{ key: k, capacity: 1000, cost: 900 }] })
    await s.settle({ now: T, buckets: [{ key: k, capacity: 1000, delta: 20 - 900 }], budgets: [] })
    expect((await s.reserve({ now: T, buckets: [{ key: k, capacity: 1000, cost: 0 }] })).tokens).toEqual([980])
    await s.settle({ now: T, buckets: [{ key: k, capacity: 1000, delta: 2000 }], budgets: [] })
    expect((await s.reserve({ now: T, buckets: [{ key: k, capacity: 1000, cost: 0 }] })).tokens).toEqual([-1020])
  })

  it('refuses once the month\'s budget is spent, and adds what each answer cost', async () => {
    const s = await make()
    const budget = { key: key(), limit: 1, cost: 0.25 }
    // A draw takes its estimated cost at once (concurrent calls cannot all spend the last of it); a settle puts it right.
    expect(await s.reserve({ now: T, buckets: [], budget })).toEqual({ result: 'ok', tokens: [], spent: 0, limitedBy: -1 })
    await s.settle({ now: T, buckets: [], budgets: [{ key: budget.key, usd: 0.75 - 0.25 }] })
    expect(await s.reserve({ now: T, buckets: [], budget })).toEqual({ result: 'ok', tokens: [], spent: 0.75, limitedBy: -1 })
    await s.settle({ now: T, buckets: [], budgets: [{ key: budget.key, usd: 0.5 - 0.25 }] })
    expect(await s.reserve({ now: T, buckets: [{ key: key(), capacity: 5, cost: 1 }], budget })).toEqual({ result: 'spent', tokens: [5], spent: 1.25, limitedBy: -1 })
  })
})

describe('the redis store', () => {
  it('shares the runtime switch: set on one client, seen by another at once and on reading', async () => {
    const [a, b] = [await stores[1]![1](), await stores[1]![1]()]
    const heard: boolean[] = []
    b.onSwitch((v) => heard.push(v))
    await a.setSwitch(true)
    await until(() => heard.length > 0, 'the other client to hear the switch')
    expect([...new Set(heard)]).toEqual([true]) // heard when published, and maybe read again as its connection came up
    expect(await b.getSwitch()).toBe(true)
  })

  it('shares cooldowns: one started on a client is heard by another at once, and by one that connects later', async () => {
    const [a, b] = [await stores[1]![1](), await stores[1]![1]()]
    const heard: [string, number][] = []
    b.onCool((k, until) => heard.push([k, until]))
    await a.cool('b/model-on-b', T + 30_000)
    await until(() => heard.length > 0, 'the other client to hear the cooldown')
    expect(heard).toContainEqual(['b/model-on-b', T + 30_000])
    const later = await stores[1]![1]()
    const told: [string, number][] = []
    later.onCool((k, until) => told.push([k, until]))
    await until(() => told.length > 0, 'the late client to read the running cooldowns')
    expect(told).toContainEqual(['b/model-on-b', T + 30_000])
  })

  it('fails fast while Redis is down (no hang, no crash) and works again once it is back', async () => {
    const s = await stores[1]![1]()
    const request = { now: T, buckets: [{ key: key(), capacity: 5, cost: 1 }] }
    expect((await s.reserve(request)).result).toBe('ok')
    await redis.stop()
    const started = Date.now()
    await expect(s.reserve(request)).rejects.toThrow(/^redis is not connected \((reconnecting|connecting|close|end)\)$|Connection is closed|max retries per request|Stream isn't writeable|timed out/)
    expect(Date.now() - started).toBeLessThan(2_000)
    await redis.start()
    // It reconnects by itself: the same client answers again (Redis came back empty).
    let answered: unknown
    for (const deadline = Date.now() + 10_000; !answered; await new Promise((resolve) => setTimeout(resolve, 50))) {
      if (Date.now() > deadline) throw new Error('the client did not reconnect within 10 s')
      answered = await s.reserve(request).catch(() => undefined)
    }
    expect(answered).toMatchObject({ result: 'ok' })
  })
})
