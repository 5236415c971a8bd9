import type { Redis as RedisClient } from 'ioredis'
import type { LimitStore, Reserved, ReserveRequest, SettleRequest } from './store.ts'

// The token buckets of store.ts, in Lua, so that a request's check and draw is one atomic round
// trip whichever replica sends it. Numbers go back as strings: Redis would cut them to integers.
// KEYS: the buckets, then the budget's key when there is one. ARGV: now, how many buckets, each
// bucket's capacity and cost, then the budget's limit.
const RESERVE = `
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local tokens = {}
local stamps = {}
local result = 'ok'
for i = 1, n do
  local cap = tonumber(ARGV[1 + 2 * i])
  local cost = tonumber(ARGV[2 + 2 * i])
  local s = redis.call('HMGET', KEYS[i], 't', 'ts')
  local t = tonumber(s[1])
  local ts = tonumber(s[2])
  if t == nil then t = cap; ts = now end
  if now > ts then t = math.min(cap, t + (now - ts) * cap / 60000); ts = now end
  tokens[i] = t
  stamps[i] = ts
  if t < math.min(cost, cap) then result = 'limited' end
end
local spent = 0
if #KEYS > n then
  spent = tonumber(redis.call('GET', KEYS[n + 1]) or '0')
  if spent >= tonumber(ARGV[3 + 2 * n]) then result = 'spent' end
end
local out = {result, tostring(spent)}
for i = 1, n do
  if result == 'ok' then tokens[i] = tokens[i] - tonumber(ARGV[2 + 2 * i]) end
  redis.call('HSET', KEYS[i], 't', tostring(tokens[i]), 'ts', tostring(stamps[i]))
  redis.call('PEXPIRE', KEYS[i], 120000)
  out[#out + 1] = tostring(tokens[i])
end
return out
`

// KEYS: the buckets, then the budget's key. ARGV: now, how many buckets, each bucket's capacity
// and delta (actual minus reserved tokens), then the cost in USD.
const SETTLE = `
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
for i = 1, n do
  local cap = tonumber(ARGV[1 + 2 * i])
  local s = redis.call('HMGET', KEYS[i], 't', 'ts')
  local t = tonumber(s[1])
  local ts = tonumber(s[2])
  if t == nil then t = cap; ts = now end
  if now > ts then t = math.min(cap, t + (now - ts) * cap / 60000); ts = now end
  t = math.min(cap, t - tonumber(ARGV[2 + 2 * i]))
  redis.call('HSET', KEYS[i], 't', tostring(t), 'ts', tostring(ts))
  redis.call('PEXPIRE', KEYS[i], 120000)
end
if #KEYS > n then
  redis.call('INCRBYFLOAT', KEYS[n + 1], ARGV[3 + 2 * n])
  redis.call('EXPIRE', KEYS[n + 1], 3456000)
end
return 1
`

const SWITCH_KEY = 'gw:config:expose_experimental'
const SWITCH_CHANNEL = 'gw:config'

// A command that takes longer than this fails, so that a stalled Redis never holds a request.
const COMMAND_TIMEOUT_MS = 500

type Scripted = RedisClient & {
  gwReserve(numberOfKeys: number, ...args: (string | number)[]): Promise<string[]>
  gwSettle(numberOfKeys: number, ...args: (string | number)[]): Promise<number>
}

/**
 * The limits' store shared by every replica: Redis at `url`, with ioredis (loaded only when
 * REDIS_URL is set). Commands fail at once while Redis is unreachable (no offline queue, no
 * retries, a command timeout) and the client reconnects by itself; `onError` hears why.
 */
export async function redisStore(url: string, onError: (error: Error) => void): Promise<LimitStore> {
  const { Redis } = await import('ioredis')
  const options = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    retryStrategy: (times: number) => Math.min(times * 100, 2_000),
    lazyConnect: true,
  }
  const client = new Redis(url, options) as Scripted
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true, commandTimeout: undefined })
  client.defineCommand('gwReserve', { lua: RESERVE })
  client.defineCommand('gwSettle', { lua: SETTLE })
  client.on('error', onError)
  subscriber.on('error', onError)
  const listeners: ((value: boolean) => void)[] = []
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === SWITCH_CHANNEL) for (const listener of listeners) listener(message === 'true')
  })
  // Up at start, or the gateway starts without it (and the failure mode applies until it is).
  await client.connect().catch(onError)
  await subscriber.connect().catch(onError)
  void subscriber.subscribe(SWITCH_CHANNEL).catch(onError)

  const args = (buckets: readonly { key: string; capacity: number }[], values: readonly (string | number)[]) => buckets.flatMap((b, i) => [b.capacity, values[i]!])
  return {
    kind: 'redis',
    async reserve(r: ReserveRequest): Promise<Reserved> {
      const keys = [...r.buckets.map((b) => b.key), ...(r.budget ? [r.budget.key] : [])]
      const argv = [r.now, r.buckets.length, ...args(r.buckets, r.buckets.map((b) => b.cost)), ...(r.budget ? [r.budget.limit] : [])]
      const [result, spent, ...tokens] = await client.gwReserve(keys.length, ...keys, ...argv)
      return { result: result as Reserved['result'], spent: Number(spent), tokens: tokens.map(Number) }
    },
    async settle(s: SettleRequest): Promise<void> {
      const keys = [...s.buckets.map((b) => b.key), ...(s.budget ? [s.budget.key] : [])]
      const argv = [s.now, s.buckets.length, ...args(s.buckets, s.buckets.map((b) => b.delta)), ...(s.budget ? [s.budget.usd] : [])]
      await client.gwSettle(keys.length, ...keys, ...argv)
    },
    async getSwitch() {
      const value = await client.get(SWITCH_KEY)
      return value === null ? undefined : value === 'true'
    },
    async setSwitch(value: boolean) {
      await client.multi().set(SWITCH_KEY, String(value)).publish(SWITCH_CHANNEL, String(value)).exec()
    },
    onSwitch(listener) {
      listeners.push(listener)
    },
    async close() {
      client.disconnect()
      subscriber.disconnect()
    },
  }
}
