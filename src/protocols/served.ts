/**
 * A model a provider says it serves, for the drift check. `shutdown`: the day it announces the
 * model stops being served (`YYYY-MM-DD`), `null` when it says none is announced, absent when its
 * list does not say.
 */
export interface ServedModel {
  readonly id: string
  readonly shutdown?: string | null
}

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** A provider's lifecycle date as a `YYYY-MM-DD` day (ISO timestamps cut to their day), `null` for an explicit none, else absent. */
export function announcedDay(value: unknown): string | null | undefined {
  if (value === null) return null
  if (typeof value !== 'string') return undefined
  const day = value.slice(0, 10)
  return DAY.test(day) && !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) ? day : undefined
}
