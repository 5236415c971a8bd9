import type { Env } from './catalog/visibility.ts'

/** The gateway's settings, read once from the environment at startup. */
export interface Config {
  /** `PORT`. Default: `8000`. */
  readonly port: number
  /** `HOST`. Default: `127.0.0.1`. */
  readonly host: string
  /** `EXPOSE_EXPERIMENTAL_MODELS` (`true`/`1`/`yes`). Default: `false`. */
  readonly exposeExperimental: boolean
  /** `ADMIN_TOKEN`. Unset: the admin surface answers 403. */
  readonly adminToken?: string
  /** `GATEWAY_API_KEYS`, comma-separated. Empty: clients need no key. */
  readonly apiKeys: readonly string[]
  /** `CORS_ORIGINS`, comma-separated origins. Default: none. */
  readonly corsOrigins: readonly string[]
  /** `MAX_BODY_BYTES`: larger request bodies get 413 before anything reads further. Default: 32 MiB. */
  readonly maxBodyBytes: number
  /** `MAX_ANSWER_BYTES`: a larger non-streamed upstream answer is cut off with 502. Default: 64 MiB. */
  readonly maxAnswerBytes: number
  /** `HEADERS_TIMEOUT_MS`: longest time a client may take to send its request headers. Default: 10000. */
  readonly headersTimeoutMs: number
  /** `REQUEST_TIMEOUT_MS`: longest time a client may take to send its whole request, body included (408 after). Default: 30000. */
  readonly requestTimeoutMs: number
  /** `UNSUPPORTED_PARAMS`: `drop` a parameter the model does not take (and say so in a header) or `reject` it with 400. Default: `drop`. */
  readonly unsupportedParams: 'drop' | 'reject'
  /** `UPSTREAM_TIMEOUT_MS`: time to an upstream's first byte. Default: the provider's `timeout_ms`. */
  readonly upstreamTimeoutMs?: number
  /** `STREAM_IDLE_TIMEOUT_MS`: longest silence inside a stream. Default: the provider's `stream_idle_timeout_ms`. */
  readonly streamIdleTimeoutMs?: number
  /** `SHUTDOWN_TIMEOUT_MS`: how long SIGTERM waits for in-flight requests before ending open streams. Default: 10000. */
  readonly shutdownTimeoutMs: number
  /** `LOG_LEVEL`: `info` (one line per request) or `debug` (plus its headers, secrets hidden, and every error's causes). Default: `info`. */
  readonly logLevel: 'info' | 'debug'
  /** `REDIS_URL` (`redis://host:port[/db]`): where limits, budgets and the runtime switch are shared by every replica. Unset: in this process (one instance). */
  readonly redisUrl?: string
  /** `LIMITS_ON_STORE_FAILURE`: while Redis cannot be reached, serve and count in process (`open`) or answer 503 (`closed`). Default: `open`. */
  readonly limitsOnStoreFailure: 'open' | 'closed'
}

/** MAX_ANSWER_BYTES when unset: 64 MiB. */
export const DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024

/** A setting the gateway cannot start with; the message names the variable. */
export class ConfigError extends Error {}

// Tokens and keys shorter than this are guessable; refuse them rather than run with them.
const MIN_SECRET_LENGTH = 16

/** Reads the configuration from `env`; throws ConfigError naming the first malformed variable. */
export function loadConfig(env: Env): Config {
  const adminToken = env.ADMIN_TOKEN || undefined
  const apiKeys = _list(env, 'GATEWAY_API_KEYS')
  for (const [name, secret] of [['ADMIN_TOKEN', adminToken], ...apiKeys.map((k) => ['GATEWAY_API_KEYS', k])] as const) {
    if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) throw new ConfigError(`${name}: a secret must have at least ${MIN_SECRET_LENGTH} characters`)
    // A bearer token is one word: a stray newline from a secret file would make it unusable.
    if (secret !== undefined && /[\s,]/.test(secret)) throw new ConfigError(`${name}: a secret must not contain spaces, newlines or commas`)
  }
  const corsOrigins = _list(env, 'CORS_ORIGINS')
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new ConfigError(`CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin like https://chat.example.com`)
  }
  const headersTimeoutMs = _integer(env, 'HEADERS_TIMEOUT_MS', 10_000)
  const requestTimeoutMs = _integer(env, 'REQUEST_TIMEOUT_MS', 30_000)
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError(`HEADERS_TIMEOUT_MS: ${headersTimeoutMs} exceeds REQUEST_TIMEOUT_MS (${requestTimeoutMs}); the headers are part of the request`)
  return {
    port: _port(env.PORT),
    host: env.HOST || '127.0.0.1',
    exposeExperimental: _boolean(env, 'EXPOSE_EXPERIMENTAL_MODELS'),
    adminToken,
    apiKeys,
    corsOrigins,
    maxBodyBytes: _integer(env, 'MAX_BODY_BYTES', 32 * 1024 * 1024),
    maxAnswerBytes: _integer(env, 'MAX_ANSWER_BYTES', DEFAULT_MAX_ANSWER_BYTES),
    headersTimeoutMs,
    requestTimeoutMs,
    unsupportedParams: _choice(env, 'UNSUPPORTED_PARAMS', ['drop', 'reject'] as const),
    upstreamTimeoutMs: _integer(env, 'UPSTREAM_TIMEOUT_MS', undefined),
    streamIdleTimeoutMs: _integer(env, 'STREAM_IDLE_TIMEOUT_MS', undefined),
    shutdownTimeoutMs: _integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000),
    logLevel: _choice(env, 'LOG_LEVEL', ['info', 'debug'] as const),
    redisUrl: _redisUrl(env.REDIS_URL),
    limitsOnStoreFailure: _choice(env, 'LIMITS_ON_STORE_FAILURE', ['open', 'closed'] as const),
  }
}

function _choice<T extends string>(env: Env, name: string, choices: readonly [T, ...T[]]): T {
  const raw = (env[name] ?? '').trim().toLowerCase()
  if (raw === '') return choices[0]
  if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(`${name}: ${JSON.stringify(env[name])} is not one of ${choices.join(', ')}`)
  return raw as T
}

function _integer<T extends number | undefined>(env: Env, name: string, fallback: T): number | T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new ConfigError(`${name}: ${JSON.stringify(raw)} is not a positive whole number`)
  return Number(raw)
}

function _redisUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('REDIS_URL: not a URL (redis://host:6379 or rediss://host:6380)')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigError(`REDIS_URL: ${url.protocol} is not redis: or rediss:`)
  return raw
}

function _port(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 8000
  const port = Number(raw)
  if (!/^\d+$/.test(raw) || port > 65535) throw new ConfigError(`PORT: ${JSON.stringify(raw)} is not a port number (0-65535)`)
  return port
}

function _boolean(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase()
  if (['true', '1', 'yes'].includes(raw)) return true
  if (['false', '0', 'no', ''].includes(raw)) return false
  throw new ConfigError(`${name}: ${JSON.stringify(env[name])} is not a boolean (true, 1, yes, false, 0, no)`)
}

function _list(env: Env, name: string): string[] {
  return (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean)
}
