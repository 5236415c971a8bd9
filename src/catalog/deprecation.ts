import type { Model } from './types.ts'

const DAY_MS = 86_400_000

// The last day asked for (a day's number since 1970, and its text): every request asks for today.
let last = { day: NaN, text: '' }

/** The UTC day of `now`, `YYYY-MM-DD`: the unit of every catalog date (a model retires on its sunset day, UTC). */
export function utcDay(now: Date): string {
  const day = Math.floor(now.getTime() / DAY_MS)
  if (day !== last.day) last = { day, text: now.toISOString().slice(0, 10) }
  return last.text
}

/** Whole days from the day `from` to the day `to` (both `YYYY-MM-DD`); negative when `to` is earlier. */
export function daysFrom(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS)
}

/** Where a model is in its deprecation schedule at a given time. */
export type DeprecationState =
  | { readonly state: 'none' }
  | { readonly state: 'deprecated' | 'retired'; readonly announced?: string; readonly sunset: string; readonly replacement?: string }

/**
 * `retired` from the sunset day on (UTC days; the model answers 410); before that `deprecated`
 * (responses carry `Deprecation` and `Sunset`) from the announcement day on, or all along
 * when no announcement date is known; otherwise `none`.
 */
export function deprecationState(model: Model, now: Date): DeprecationState {
  const d = model.deprecation
  if (!d) return NONE
  const today = utcDay(now)
  if (d.announced !== undefined && today < d.announced) return NONE
  const state = today >= d.sunset ? 'retired' : 'deprecated'
  // Made once per model and state (the catalog is frozen): every request to a deprecated model asks.
  let states = schedules.get(d)
  if (!states) schedules.set(d, (states = {}))
  return (states[state] ??= Object.freeze({ state, ...d }))
}

const NONE: DeprecationState = Object.freeze({ state: 'none' })
const schedules = new WeakMap<object, { deprecated?: DeprecationState; retired?: DeprecationState }>()
