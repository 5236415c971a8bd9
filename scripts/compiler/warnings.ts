import type { CatalogFile } from '../../src/catalog/types.ts'
import type { Issue } from './source.ts'

// How long a catalog's facts and states may stand before `validate` asks for a look.
export const VERIFIED_MAX_DAYS = 90
export const RETIRED_ACTIVE_MAX_DAYS = 30
export const EXPERIMENTAL_MAX_DAYS = 60

const DAY_MS = 86_400_000

/** Whole days from `day` (YYYY-MM-DD) to `today` (YYYY-MM-DD). */
export function daysBetween(day: string, today: string): number {
  return Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${day}T00:00:00Z`)) / DAY_MS)
}

/**
 * What a valid catalog should have a look at on `now`'s day, each as a sentence and the command
 * that settles it: figures verified long ago, models retired long ago but still active, models
 * experimental for long. Warnings: they do not fail the build.
 */
export function warningIssues(file: CatalogFile, now: Date): Issue[] {
  const today = now.toISOString().slice(0, 10)
  const issues: Issue[] = []
  for (const [id, m] of Object.entries(file.models)) {
    if (m.verified !== undefined && daysBetween(m.verified, today) > VERIFIED_MAX_DAYS) {
      issues.push({ path: ['models', id, 'verified'], message: `verified ${m.verified}, ${daysBetween(m.verified, today)} days ago (more than ${VERIFIED_MAX_DAYS}): check the figures against its sources and update verified` })
    }
    const sunset = m.deprecation?.sunset
    if (sunset !== undefined && m.active !== false && daysBetween(sunset, today) > RETIRED_ACTIVE_MAX_DAYS) {
      issues.push({ path: ['models', id, 'deprecation', 'sunset'], message: `retired on ${sunset}, ${daysBetween(sunset, today)} days ago: set active: false (npm run catalog -- deactivate ${id}); it keeps answering 410${m.deprecation?.replacement ? ' naming its replacement' : ''}` })
    }
    if (m.experimental === true && m.experimental_since !== undefined && daysBetween(m.experimental_since, today) > EXPERIMENTAL_MAX_DAYS) {
      issues.push({ path: ['models', id, 'experimental_since'], message: `experimental since ${m.experimental_since}, ${daysBetween(m.experimental_since, today)} days (more than ${EXPERIMENTAL_MAX_DAYS}): promote it (npm run catalog -- promote ${id}) or retire it` })
    }
  }
  return issues
}
