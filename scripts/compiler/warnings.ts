import { daysFrom, utcDay } from '../../src/catalog/deprecation.ts'
import type { CatalogFile } from '../../src/catalog/types.ts'
import type { Issue } from './source.ts'

// How long a catalog's facts and states may stand before `validate` asks for a look.
export const VERIFIED_MAX_DAYS = 90
export const RETIRED_ACTIVE_MAX_DAYS = 30
export const EXPERIMENTAL_MAX_DAYS = 60

/**
 * What a valid catalog should have a look at on `now`'s day, each as a sentence and the command
 * that settles it: figures verified long ago, models retired long ago but still active, models
 * experimental for long. Warnings: they do not fail the build.
 */
export function warningIssues(file: CatalogFile, now: Date): Issue[] {
  const today = utcDay(now)
  const issues: Issue[] = []
  for (const [id, m] of Object.entries(file.models)) {
    // A model that is done with (inactive) needs no fresh figures.
    if (m.verified !== undefined && m.active !== false && daysFrom(m.verified, today) > VERIFIED_MAX_DAYS) {
      issues.push({ path: ['models', id, 'verified'], message: `verified ${m.verified}, ${daysFrom(m.verified, today)} days ago (more than ${VERIFIED_MAX_DAYS}): check the figures against its sources and update verified` })
    }
    const sunset = m.deprecation?.sunset
    if (sunset !== undefined && m.active !== false && daysFrom(sunset, today) > RETIRED_ACTIVE_MAX_DAYS) {
      issues.push({ path: ['models', id, 'deprecation', 'sunset'], message: `retired on ${sunset}, ${daysFrom(sunset, today)} days ago: set active: false (npm run catalog -- deactivate ${id}); it keeps answering 410${m.deprecation?.replacement ? ' naming its replacement' : ''}` })
    }
    if (m.experimental === true && m.experimental_since === undefined) {
      issues.push({ path: ['models', id, 'experimental'], message: `experimental since an unrecorded day: add experimental_since (YYYY-MM-DD), so that a long experiment is noticed` })
    } else if (m.experimental === true && daysFrom(m.experimental_since!, today) > EXPERIMENTAL_MAX_DAYS) {
      issues.push({ path: ['models', id, 'experimental_since'], message: `experimental since ${m.experimental_since}, ${daysFrom(m.experimental_since!, today)} days (more than ${EXPERIMENTAL_MAX_DAYS}): promote it (npm run catalog -- promote ${id}) or retire it` })
    }
  }
  return issues
}
