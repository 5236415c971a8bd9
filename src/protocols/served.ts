/**
 * A model a provider says it serves, for the drift check. `shutdown`: the day it announces the
 * model stops being served (`YYYY-MM-DD`), `null` when it says none is announced, absent when its
 * list does not say.
 */
export interface ServedModel {
  readonly id: string
  readonly shutdown?: string | null
}

/**
 * A provider's lifecycle date as a `YYYY-MM-DD` day (an ISO timestamp cut to its day), `null` for
 * an explicit none; absent for anything else (a number, an impossible day like 2026-02-30).
 */
export function announcedDay(value: unknown): string | null | undefined {
  if (value === null) return null
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}(T|$)/.test(value)) return undefined
  const day = value.slice(0, 10)
  const parsed = new Date(`${day}T00:00:00Z`)
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(day) ? day : undefined
}
