import type { Model } from './types.ts'

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
  if (!d) return { state: 'none' }
  const today = now.toISOString().slice(0, 10)
  if (d.announced !== undefined && today < d.announced) return { state: 'none' }
  return { state: today >= d.sunset ? 'retired' : 'deprecated', ...d }
}
