import type { Redis as RedisClient } from 'ioredis'
import { refilled } from './store.ts'
import type { LimitStore, Reserved, ReserveRequest, SettleRequest } from './store.ts'

// The token buckets of store.ts, in Lua, so that a request's check and draw is one atomic round
// trip whichever replica sends it; the same script settles what answers owe (with nothing to
// draw). Numbers go back as strings: Redis would cut them to integers.
// A bucket is one string, "tokens stamp" (one GET and one SET each).
// KEYS: settled buckets, settled budgets, drawn buckets, then the drawn budget when there is one.
// ARGV: now, how many of each of the first three, each settled bucket's capacity and delta
// (actual minus reserved tokens), each settled budget's cost in USD, each drawn bucket's capacity
// and cost, then the drawn budget's limit.
const SETTLE_AND_RESERVE = `
local now = tonumber(ARGV[1])
local ns, ng, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local a = 5
local function state(key, cap)
  local s = redis.call('GET', key)
  if not s then return cap, now end
  local sep = string.find(s, ' ', 1, true)
  local t, ts = tonumber(string.sub(s, 1, sep - 1)), tonumber(string.sub(s, sep + 1))
  if now > ts then return math.min(cap, t + (now - ts) * cap / 60000), now end
  return t, ts
end
local function put(key, t, ts)
  redis.call('SET', key, tostring(t) .. ' ' .. tostring(ts), 'PX', 120000)
end
for i = 1, ns do
  local cap, delta = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local t, ts = state(KEYS[i], cap)
  put(KEYS[i], math.min(cap, t - delta), ts)
  a = a + 2
end
for i = 1, ng do
  redis.call('INCRBYFLOAT', KEYS[ns + i], ARGV[a])
  redis.call('EXPIRE', KEYS[ns + i], 3456000)
  a = a + 1
end
local base = ns + ng
local tokens, stamps, result = {}, {}, 'ok'
for i = 1, n do
  local cap, cost = tonumber(ARGV[a + 2 * (i - 1)]), tonumber(ARGV[a + 2 * (i - 1) + 1])
  tokens[i], stamps[i] = state(KEYS[base + i], cap)
  if tokens[i] < math.min(cost, cap) then result = 'limited' end
end
local spent = 0
if #KEYS > base + n then
  spent = tonumber(redis.call('GET', KEYS[base + n + 1]) or '0')
  if spent >= tonumber(ARGV[a + 2 * n]) then result = 'spent' end
end
local out = {result, tostring(spent)}
for i = 1, n do
  if result == 'ok' then tokens[i] = tokens[i] - tonumber(ARGV[a + 2 * (i - 1) + 1]) end
  put(KEYS[base + i], tokens[i], stamps[i])
  out[#out + 1] = tostring(tokens[i])
end
return out
`

const SWITCH_KEY = 'gw:config:expose_experimental'
const SWITCH_CHANNEL = 'gw:config'

// A command that takes longer than this fails, so that a stalled Redis never holds a request.
const COMMAND_TIMEOUT_MS = 500

type Scripted = RedisClient & { gwSettleAndReserve(numberOfKeys: number, ...args: (string | number)[]): Promise<string[]> }

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
    // Commands issued in one turn of the event loop go out in one write: under load, many
    // requests' draws share a system call.
    enableAutoPipelining: true,
  }
  const client = new Redis(url, options) as Scripted
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true, commandTimeout: undefined })
  client.defineCommand('gwSettleAndReserve', { lua: SETTLE_AND_RESERVE })
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

  const call = async (now: number, settle: SettleRequest | undefined, r: Omit<ReserveRequest, 'now'>): Promise<string[]> => {
    const sb = settle?.buckets ?? []
    const sg = settle?.budgets ?? []
    const keys = [...sb.map((b) => b.key), ...sg.map((b) => b.key), ...r.buckets.map((b) => b.key), ...(r.budget ? [r.budget.key] : [])]
    const argv = [now, sb.length, sg.length, r.buckets.length, ...sb.flatMap((b) => [b.capacity, b.delta]), ...sg.map((b) => b.usd), ...r.buckets.flatMap((b) => [b.capacity, b.cost]), ...(r.budget ? [r.budget.limit] : [])]
    return client.gwSettleAndReserve(keys.length, ...keys, ...argv)
  }
  return {
    kind: 'redis',
    async reserve(r: ReserveRequest): Promise<Reserved> {
      const [result, spent, ...tokens] = await call(r.now, undefined, r)
      return { result: result as Reserved['result'], spent: Number(spent), tokens: tokens.map(Number) }
    },
    async settle(s: SettleRequest): Promise<void> {
      await call(s.now, s, { buckets: [] })
    },
    async peek(now, buckets) {
      const states = buckets.length ? await client.mget(...buckets.map((b) => b.key)) : []
      return buckets.map((b, i) => {
        const [t, ts] = (states[i] ?? '').split(' ').map(Number)
        return states[i] ? refilled(t!, ts!, b.capacity, now) : b.capacity
      })
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
