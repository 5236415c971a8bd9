// Upcoming retirements: the deprecated models of the table's data, soonest sunset first.
import { deprecationOf } from './catalog.js'

const DAY_MS = 86_400_000

/** Shows which of `models` retire when, their replacement, and the days left on this page's clock. */
export function renderSunsets(models) {
  // Whole UTC days, as the gateway counts them (a model retires on its sunset day, UTC).
  const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`)
  const upcoming = models
    .map((m) => ({ m, d: deprecationOf(m) }))
    .filter(({ d }) => d && d.state === 'deprecated')
    .sort((a, b) => a.d.sunset.localeCompare(b.d.sunset) || a.m.id.localeCompare(b.m.id))
  const empty = document.getElementById('sunsets-empty')
  empty.hidden = upcoming.length > 0
  empty.textContent = upcoming.length ? '' : 'No model in this list has an announced retirement.'
  document.getElementById('sunsets').closest('.scroll').hidden = upcoming.length === 0
  document.querySelector('#sunsets tbody').replaceChildren(...upcoming.map(({ m, d }) => {
    const days = Math.round((Date.parse(`${d.sunset}T00:00:00Z`) - today) / DAY_MS)
    const tr = document.createElement('tr')
    for (const [text, className] of [[m.id, ''], [d.sunset, ''], [String(days), 'num'], [d.replacement ?? 'none named', '']]) {
      const td = document.createElement('td')
      td.textContent = text
      if (className) td.className = className
      tr.append(td)
    }
    return tr
  }))
}
