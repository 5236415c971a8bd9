import { createHash, timingSafeEqual } from 'node:crypto'
import type { RequestView } from '../request-view.ts'
import { httpError } from '../errors.ts'

/**
 * Compares secrets in constant time, whatever their lengths: both are hashed first, so a
 * guess of another length neither throws nor returns early.
 */
export function safeEqual(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(given), digest(expected))
}

/** The bearer token of a request, if it has one. */
export function bearer(event: RequestView): string | undefined {
  const header = event.req.headers.get('authorization') ?? ''
  return /^Bearer\s+(\S+)$/i.exec(header)?.[1]
}

/** The key a client sent: a bearer token, or Anthropic's `x-api-key` (what the Anthropic SDKs and Claude Code send). */
export function clientKey(event: RequestView): string | undefined {
  return bearer(event) ?? (event.req.headers.get('x-api-key')?.trim() || undefined)
}

/** Whether `token` is one of `keys`, checking every key (no early exit that leaks which). */
export function oneOf(token: string, keys: readonly string[]): boolean {
  let found = false
  for (const key of keys) found = safeEqual(token, key) || found
  return found
}

/** Throws 403 when the admin surface is disabled, 401 when the admin token is missing or wrong. */
export function requireAdmin(event: RequestView, adminToken: string | undefined): void {
  if (!adminToken) throw httpError(403, 'the admin API is disabled: set ADMIN_TOKEN to enable it', { code: 'admin_disabled' })
  const token = bearer(event)
  if (!token || !safeEqual(token, adminToken)) {
    throw httpError(401, 'a valid admin token is required (Authorization: Bearer <ADMIN_TOKEN>)', { code: 'invalid_api_key', headers: { 'www-authenticate': 'Bearer' } })
  }
}
