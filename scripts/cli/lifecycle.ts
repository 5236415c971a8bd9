import type { Catalog } from '../../src/catalog/types.ts'
import { daysFrom, utcDay } from '../../src/catalog/deprecation.ts'

/**
 * What retires when: every model whose sunset is still ahead (only the next `within` days,
 * when given), soonest first, with its replacement and the days left; then the experimental
 * models and how long they have been so. Past sunsets are counted, not listed.
 */
export function lifecycleReport(catalog: Catalog, now: Date, within?: number): string[] {
  const today = utcDay(now)
  const models = Object.values(catalog.models)
  const upcoming = models
    .filter((m) => m.deprecation && m.deprecation.sunset > today)
    .map((m) => ({ m, days: daysFrom(today, m.deprecation!.sunset) }))
    .filter(({ days }) => within === undefined || days <= within)
    .sort((a, b) => a.days - b.days || a.m.id.localeCompare(b.m.id))
  const retired = models.filter((m) => m.deprecation && m.deprecation.sunset <= today).length
  const scope = within === undefined ? '' : ` within ${within} day${within === 1 ? '' : 's'}`
  const lines = [`Retirements${scope} (today ${today}): ${upcoming.length}`]
  const width = Math.max(0, ...upcoming.map(({ m }) => m.id.length))
  for (const { m, days } of upcoming) {
    const d = m.deprecation!
    const left = `in ${days} day${days === 1 ? '' : 's'}`
    const notice = d.announced ? `, announced ${d.announced}` : ''
    lines.push(`  ${d.sunset}  ${left.padEnd(12)}  ${m.id.padEnd(width)}  -> ${d.replacement ?? 'no replacement named'}${notice}`)
  }
  lines.push(`Retired already: ${retired} (they answer 410, naming the replacement where one is recorded)`)
  const experimental = models.filter((m) => m.experimental)
  lines.push(`Experimental: ${experimental.length}`)
  for (const m of experimental) {
    const since = m.experimental_since ? `since ${m.experimental_since} (${daysFrom(m.experimental_since, today)} days)` : 'since an unrecorded day'
    lines.push(`  ${m.id}  ${m.stability ?? 'no stability given'}, ${since}`)
  }
  return lines
}
