import { baseUrlProblem } from './catalog/base-url.ts'
import type { Catalog } from './catalog/types.ts'
import type { Env } from './catalog/visibility.ts'
import type { Config } from './config.ts'
import { ConfigError, DEFAULT_MAX_ANSWER_BYTES } from './config.ts'
import type { Upstream } from './transport/client.ts'

/**
 * Resolves every provider once, at startup: the base URL from `base_url_env` when set (held to
 * the catalog's base URL rules, or startup stops naming the variable), the key, timeouts.
 */
export function resolveUpstreams(catalog: Catalog, env: Env, config: Partial<Pick<Config, 'upstreamTimeoutMs' | 'streamIdleTimeoutMs' | 'maxAnswerBytes'>>): Readonly<Record<string, Upstream>> {
  const out: Record<string, Upstream> = {}
  for (const p of Object.values(catalog.providers)) {
    const override = p.base_url_env ? env[p.base_url_env] : undefined
    const problem = override ? baseUrlProblem(override) : undefined
    if (problem) throw new ConfigError(`${p.base_url_env}: ${problem}`)
    const baseUrl = (override || p.base_url).replace(/\/+$/, '')
    const url = new URL(baseUrl)
    out[p.id] = {
      provider: p,
      baseUrl,
      origin: url.origin,
      basePath: url.pathname.replace(/\/$/, ''),
      key: p.api_key_env ? env[p.api_key_env] || undefined : undefined,
      firstByteMs: config.upstreamTimeoutMs ?? p.timeout_ms,
      idleMs: config.streamIdleTimeoutMs ?? p.stream_idle_timeout_ms,
      maxAnswerBytes: config.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES,
      ...(p.retries && {
        retries: { attempts: p.retries.attempts, backoffMs: p.retries.backoff_ms ?? 250, maxWaitMs: p.retries.max_wait_ms ?? 10_000, budgetMs: p.retries.budget_ms ?? 60_000 },
      }),
    }
  }
  return out
}
