// The usage panel: GET /api/stats as a table by model and inline SVG bar charts (requests, and
// the latency of the last five minutes: p50 over p95).

const SVG = 'http://www.w3.org/2000/svg'
const numbers = new Intl.NumberFormat('en-US')
const cents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })
const small = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumSignificantDigits: 3 })
// Dollars and cents from $1; below that three significant digits, so $0.0000004 is not "$0.00".
const dollars = { format: (usd) => (usd >= 1 || usd === 0 ? cents : small).format(usd) }
// The chart shows the busiest models; the table below lists them all.
const CHART_BARS = 10

/** Shows `stats` (the body of GET /api/stats). */
export function renderUsage(stats) {
  const since = _time(stats.since)
  const ids = Object.keys(stats.requests_by_model)
  const calls = ids.reduce((n, id) => n + stats.requests_by_model[id], 0)
  const failed = ids.reduce((n, id) => n + (stats.errors_by_model[id] ?? 0), 0)
  // Model calls first; the HTTP figures count every route, this page's own requests included.
  document.getElementById('usage-summary').textContent =
    `${numbers.format(calls)} model ${calls === 1 ? 'call' : 'calls'} (${numbers.format(failed)} failed), ` +
    `${numbers.format(stats.total_tokens)} tokens, ${dollars.format(stats.total_cost)} since ${since}; ` +
    `${numbers.format(stats.requests)} HTTP requests on all routes, this page's included (${numbers.format(stats.errors)} errors); updated ${_time(new Date().toISOString())}.`
  const empty = document.getElementById('usage-empty')
  empty.hidden = ids.length > 0
  empty.textContent = ids.length ? '' : `No model calls since ${since}.`
  document.getElementById('usage').closest('.scroll').hidden = ids.length === 0
  document.querySelector('#usage tbody').replaceChildren(...ids.map((id) => _row(id, stats)))
  const busiest = ids.map((id) => [id, stats.requests_by_model[id]]).sort((a, b) => b[1] - a[1]).slice(0, CHART_BARS)
  document.getElementById('usage-chart').replaceChildren(...(busiest.length ? [_chart(busiest)] : []))
  const timed = busiest.filter(([id]) => stats.latency_by_model?.[id])
  document.getElementById('latency-chart').replaceChildren(...(timed.length ? [_latencyChart(timed.map(([id]) => [id, stats.latency_by_model[id]]))] : []))
}

// Seconds as people read latencies: milliseconds below a second, else seconds.
function _seconds(s) {
  return s === undefined ? '–' : s < 1 ? `${numbers.format(Math.round(s * 1000))} ms` : `${s.toFixed(2)} s`
}

function _row(id, stats) {
  const tr = document.createElement('tr')
  const tokens = stats.tokens_by_model[id] ?? { prompt: 0, completion: 0 }
  const cells = [
    [id, ''],
    [numbers.format(stats.requests_by_model[id] ?? 0), 'num'],
    [numbers.format(stats.errors_by_model[id] ?? 0), 'num'],
    [numbers.format(stats.aborted_by_model[id] ?? 0), 'num'],
    [numbers.format(tokens.prompt), 'num'],
    [numbers.format(tokens.completion), 'num'],
    [dollars.format(stats.cost_by_model[id] ?? 0), 'num'],
    ...['p50_seconds', 'p95_seconds', 'ttft_p50_seconds', 'ttft_p95_seconds'].map((f) => [_seconds(stats.latency_by_model?.[id]?.[f]), 'num']),
  ]
  for (const [text, className] of cells) {
    const td = document.createElement(className ? 'td' : 'th')
    if (!className) td.scope = 'row'
    td.textContent = text
    if (className) td.className = className
    tr.append(td)
  }
  return tr
}

// Horizontal bars, one per model, scaled to the busiest; described for screen readers.
function _chart(bars) {
  const row = 24
  const label = 200
  const width = 600
  const max = Math.max(...bars.map(([, n]) => n), 1)
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${width} ${bars.length * row}`)
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-labelledby', 'usage-chart-title usage-chart-desc')
  const title = _svg('title', { id: 'usage-chart-title' }, 'Requests by model')
  const desc = _svg('desc', { id: 'usage-chart-desc' }, bars.map(([id, n]) => `${id}: ${n} ${n === 1 ? 'request' : 'requests'}`).join('; '))
  svg.append(title, desc)
  bars.forEach(([id, n], i) => {
    const y = i * row
    const length = Math.max(((width - label - 50) * n) / max, 2)
    svg.append(
      _svg('text', { x: label - 6, y: y + 16, 'text-anchor': 'end' }, id.length > 28 ? `${id.slice(0, 27)}…` : id),
      _svg('rect', { x: label, y: y + 4, width: length, height: row - 8 }),
      _svg('text', { x: label + length + 6, y: y + 16 }, String(n)),
    )
  })
  return svg
}

// One row per model: its p95 latency as a light bar, its p50 as a dark one over it, scaled to the slowest.
function _latencyChart(rows) {
  const row = 24
  const label = 200
  const width = 600
  const max = Math.max(...rows.map(([, l]) => l.p95_seconds), 0.001)
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${width} ${rows.length * row}`)
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-labelledby', 'latency-chart-title latency-chart-desc')
  svg.append(
    _svg('title', { id: 'latency-chart-title' }, 'Latency by model, last 5 minutes'),
    _svg('desc', { id: 'latency-chart-desc' }, rows.map(([id, l]) => `${id}: p50 ${_seconds(l.p50_seconds)}, p95 ${_seconds(l.p95_seconds)}`).join('; ')),
  )
  rows.forEach(([id, l], i) => {
    const y = i * row
    const scale = (s) => Math.max(((width - label - 90) * s) / max, 2)
    svg.append(
      _svg('text', { x: label - 6, y: y + 16, 'text-anchor': 'end' }, id.length > 28 ? `${id.slice(0, 27)}…` : id),
      _svg('rect', { class: 'p95', x: label, y: y + 4, width: scale(l.p95_seconds), height: row - 8 }),
      _svg('rect', { class: 'p50', x: label, y: y + 4, width: scale(l.p50_seconds), height: row - 8 }),
      _svg('text', { x: label + scale(l.p95_seconds) + 6, y: y + 16 }, `${_seconds(l.p50_seconds)} / ${_seconds(l.p95_seconds)}`),
    )
  })
  return svg
}

function _svg(tag, attributes, text) {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, String(v))
  if (text !== undefined) el.textContent = text
  return el
}

// An ISO time as "2026-11-21 14:30:05 UTC": the same for every reader, whatever their zone.
function _time(iso) {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`
}
