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
// and cost, then the drawn budget's limit and estimated cost.
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
-- Kept until it would be full again (a bucket in debt takes longer), and a minute more.
local function put(key, t, ts, cap)
  local ttl = 60000 + math.ceil(math.max(0, cap - t) * 60000 / cap)
  redis.call('SET', key, tostring(t) .. ' ' .. tostring(ts), 'PX', ttl)
end
for i = 1, ns do
  local cap, delta = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local t, ts = state(KEYS[i], cap)
  put(KEYS[i], math.min(cap, t - delta), ts, cap)
  a = a + 2
end
for i = 1, ng do
  redis.call('INCRBYFLOAT', KEYS[ns + i], ARGV[a])
  redis.call('EXPIRE', KEYS[ns + i], 3456000)
  a = a + 1
end
local base = ns + ng
local tokens, stamps, result, limitedBy = {}, {}, 'ok', -1
for i = 1, n do
  local cap, cost = tonumber(ARGV[a + 2 * (i - 1)]), tonumber(ARGV[a + 2 * (i - 1) + 1])
  tokens[i], stamps[i] = state(KEYS[base + i], cap)
  if limitedBy < 0 and tokens[i] < math.min(cost, cap) then result = 'limited'; limitedBy = i - 1 end
end
local spent = 0
if #KEYS > base + n then
  spent = tonumber(redis.call('GET', KEYS[base + n + 1]) or '0')
  if spent >= tonumber(ARGV[a + 2 * n]) then result = 'spent' end
end
local out = {result, tostring(spent), tostring(result == 'limited' and limitedBy or -1)}
for i = 1, n do
  local cap = tonumber(ARGV[a + 2 * (i - 1)])
  if result == 'ok' then tokens[i] = tokens[i] - tonumber(ARGV[a + 2 * (i - 1) + 1]) end
  put(KEYS[base + i], tokens[i], stamps[i], cap)
  out[#out + 1] = tostring(tokens[i])
end
if result == 'ok' and #KEYS > base + n then
  redis.call('INCRBYFLOAT', KEYS[base + n + 1], ARGV[a + 2 * n + 1])
  redis.call('EXPIRE', KEYS[base + n + 1], 3456000)
end
return out
`

const SWITCH_KEY = 'gw:config:expose_experimental'
const SWITCH_CHANNEL = 'gw:config'
// Deployment cooldowns: a hash of deployment -> until (ms), and a channel telling them as they start.
const COOLDOWNS_KEY = 'gw:cooldowns'
const COOLDOWN_CHANNEL = 'gw:cooldown'

// A command that takes longer than this fails, so that a stalled Redis never holds a request.
const COMMAND_TIMEOUT_MS = 500

type Scripted = RedisClient & { gwSettleAndReserve(numberOfKeys: number, ...args: (string | number)[]): Promise<string[]> }

/**
 * The limits' store shared by every replica: Redis at `url`, with ioredis (loaded only when
 * REDIS_URL is set). While the connection is not up, every command fails at once (no offline
 * queue, no retries); a connected Redis that stalls fails a command after 500 ms; the client
 * reconnects by itself, and `onError` hears why it could not. The switch is subscribed to
 * whenever the connection comes (back) up, and read again then: nothing set meanwhile is missed.
 */
export async function redisStore(url: string, onError: (error: Error) => void): Promise<LimitStore> {
  const { Redis } = await import('ioredis')
  const options = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    retryStrategy: (times: number) => Math.min(times * 100, 2_000),
    // Commands issued in one turn of the event loop go out in one write: under load, many
    // requests' draws share a system call.
    enableAutoPipelining: true,
  }
  const client = new Redis(url, options) as Scripted
  // The subscriber waits for its connection instead: a subscription is not a request's.
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined, enableAutoPipelining: false })
  client.defineCommand('gwSettleAndReserve', { lua: SETTLE_AND_RESERVE })
  client.on('error', onError)
  subscriber.on('error', onError)
  const listeners: ((value: boolean) => void)[] = []
  const tell = (value: boolean) => listeners.forEach((listener) => listener(value))
  const coolListeners: ((key: string, until: number) => void)[] = []
  const tellCool = (key: string, until: number) => coolListeners.forEach((listener) => listener(key, until))
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === SWITCH_CHANNEL) tell(message === 'true')
    if (channel === COOLDOWN_CHANNEL) tellCool(message.slice(message.indexOf(' ') + 1), Number(message.slice(0, message.indexOf(' '))))
  })
  void subscriber.subscribe(SWITCH_CHANNEL, COOLDOWN_CHANNEL).catch(onError) // ioredis subscribes again on each reconnect
  // The cooldowns running now (the listeners keep only what still runs): read when a listener
  // comes, and again whenever a connection comes back up (what started while it was away).
  const readCooldowns = (listeners: readonly ((key: string, until: number) => void)[]) =>
    void client.hgetall(COOLDOWNS_KEY).then((all) => Object.entries(all).forEach(([key, until]) => listeners.forEach((l) => l(key, Number(until)))), () => {})
  // Read once both connections are up (either may come up last): what was set while away.
  const readAll = () => {
    void client.get(SWITCH_KEY).then((v) => v !== null && tell(v === 'true'), () => {})
    readCooldowns(coolListeners)
  }
  subscriber.on('ready', readAll)
  client.on('ready', readAll)
  // Up at start (or the first attempt failed, and the failure mode applies until it is).
  await new Promise<void>((resolve) => {
    const done = () => (clearTimeout(timer), client.off('ready', done), client.off('error', done), resolve())
    const timer = setTimeout(done, options.connectTimeout)
    client.once('ready', done)
    client.once('error', done)
  })
  // A command while the connection is down fails here at once, rather than waiting on a socket.
  const up = () => {
    if (client.status !== 'ready') throw new Error(`redis is not connected (${client.status})`)
  }

  const call = async (now: number, settle: SettleRequest | undefined, r: Omit<ReserveRequest, 'now'>): Promise<string[]> => {
    up()
    const sb = settle?.buckets ?? []
    const sg = settle?.budgets ?? []
    const keys = [...sb.map((b) => b.key), ...sg.map((b) => b.key), ...r.buckets.map((b) => b.key), ...(r.budget ? [r.budget.key] : [])]
    const argv = [now, sb.length, sg.length, r.buckets.length, ...sb.flatMap((b) => [b.capacity, b.delta]), ...sg.map((b) => b.usd), ...r.buckets.flatMap((b) => [b.capacity, b.cost]), ...(r.budget ? [r.budget.limit, r.budget.cost] : [])]
    return client.gwSettleAndReserve(keys.length, ...keys, ...argv)
  }
  return {
    kind: 'redis',
    async reserve(r: ReserveRequest): Promise<Reserved> {
      const [result, spent, limitedBy, ...tokens] = await call(r.now, undefined, r)
      return { result: result as Reserved['result'], spent: Number(spent), limitedBy: Number(limitedBy), tokens: tokens.map(Number) }
    },
    async settle(s: SettleRequest): Promise<void> {
      await call(s.now, s, { buckets: [] })
    },
    async peek(now, buckets) {
      up()
      const states = buckets.length ? await client.mget(...buckets.map((b) => b.key)) : []
      return buckets.map((b, i) => {
        const [t, ts] = (states[i] ?? '').split(' ').map(Number)
        return states[i] ? refilled(t!, ts!, b.capacity, now) : b.capacity
      })
    },
    async getSwitch() {
      up()
      const value = await client.get(SWITCH_KEY)
      return value === null ? undefined : value === 'true'
    },
    async setSwitch(value: boolean) {
      up()
      await client.multi().set(SWITCH_KEY, String(value)).publish(SWITCH_CHANNEL, String(value)).exec()
    },
    onSwitch(listener) {
      listeners.push(listener)
    },
    async cool(key, until) {
      up()
      // The hash holds one field per deployment of the catalog: it does not grow past it.
      await client.multi().hset(COOLDOWNS_KEY, key, String(until)).publish(COOLDOWN_CHANNEL, `${until} ${key}`).exec()
    },
    onCool(listener) {
      coolListeners.push(listener)
      if (client.status === 'ready') readCooldowns([listener])
    },
    async close() {
      // QUIT lets the commands sent before it finish; a connection that is not up is just dropped.
      if (client.status === 'ready') await Promise.race([client.quit().catch(() => {}), new Promise((resolve) => setTimeout(resolve, COMMAND_TIMEOUT_MS).unref())])
      client.disconnect()
      subscriber.disconnect()
    },
  }
}
