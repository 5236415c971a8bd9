// The models table: search, filters, sorting and badges. Every text goes in by textContent.

const numbers = new Intl.NumberFormat('en-US')
const prices = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 })

/** Where a model is in its deprecation schedule: the admin listing nests it under `status`. */
export function deprecationOf(model) {
  const d = model.status ? model.status.deprecation : model.deprecation
  return d && d.state !== 'none' ? d : null
}

// What each sortable column sorts by; models without the figure go last either way.
const SORT_KEYS = {
  context_window: (m) => m.context_window,
  max_output: (m) => m.max_output,
  price: (m) => m.pricing?.input,
}

/**
 * The table section: `render(models)` when the data changes; search, filters and sort
 * buttons re-render on their own; `onOpen(model, button)` opens a model's detail view.
 */
export function catalogView(onOpen) {
  const tbody = document.querySelector('#models tbody')
  const search = document.getElementById('search')
  const selects = [...document.querySelectorAll('select[data-filter]')]
  const count = document.getElementById('model-count')
  const sortable = [...document.querySelectorAll('th[aria-sort]')]
  let models = []
  let sort = null // { key, dir: 'ascending' | 'descending' }

  const update = () => {
    const rows = _sorted(models.filter(_matcher(search.value, _filterValues(selects))), sort)
    tbody.replaceChildren(...rows.map((m) => _row(m, onOpen)))
    count.textContent = `Showing ${rows.length} of ${models.length} models`
  }
  search.addEventListener('input', update)
  for (const select of selects) select.addEventListener('change', update)
  for (const th of sortable) {
    const button = th.querySelector('button')
    button.addEventListener('click', () => {
      const key = button.dataset.sort
      sort = { key, dir: sort?.key === key && sort.dir === 'ascending' ? 'descending' : 'ascending' }
      for (const other of sortable) other.setAttribute('aria-sort', other === th ? sort.dir : 'none')
      update()
    })
  }

  return {
    render(next) {
      models = next
      _options(selects, models)
      update()
    },
  }
}

function _filterValues(selects) {
  return Object.fromEntries(selects.map((s) => [s.dataset.filter, s.value]))
}

function _matcher(query, f) {
  const q = query.trim().toLowerCase()
  return (m) => {
    if (q && ![m.id, m.name, m.description].some((text) => (text ?? '').toLowerCase().includes(q))) return false
    if (f.provider && m.provider !== f.provider) return false
    if (f.kind && m.kind !== f.kind) return false
    if (f.capability && !(m.capabilities ?? []).includes(f.capability)) return false
    if (f.experimental && (f.experimental === 'only') !== Boolean(m.experimental)) return false
    if (f.deprecated && (f.deprecated === 'only') !== Boolean(deprecationOf(m))) return false
    return true
  }
}

function _sorted(models, sort) {
  if (!sort) return models
  const value = SORT_KEYS[sort.key]
  const sign = sort.dir === 'ascending' ? 1 : -1
  return [...models].sort((a, b) => {
    const x = value(a)
    const y = value(b)
    if (x == null || y == null) return (x == null) - (y == null)
    return sign * (x - y)
  })
}

// Each select offers the values present in the data, keeping the user's choice.
function _options(selects, models) {
  const values = {
    provider: models.map((m) => m.provider),
    kind: models.map((m) => m.kind),
    capability: models.flatMap((m) => m.capabilities ?? []),
  }
  for (const select of selects) {
    const list = values[select.dataset.filter]
    if (!list) continue
    const chosen = select.value
    const all = select.options[0]
    const options = [...new Set(list)].sort().map((v) => new Option(v, v))
    select.replaceChildren(all, ...options)
    select.value = options.some((o) => o.value === chosen) ? chosen : ''
  }
}

function _row(m, onOpen) {
  const tr = document.createElement('tr')
  tr.dataset.model = m.id
  const first = document.createElement('td')
  const open = _el('button', m.id, 'model-link')
  open.type = 'button'
  open.setAttribute('aria-haspopup', 'dialog')
  open.addEventListener('click', () => onOpen(m, open))
  first.append(open, _el('span', m.name ?? '', 'model-name'))
  tr.append(
    first,
    _el('td', m.provider),
    _el('td', m.kind),
    _el('td', (m.capabilities ?? []).join(', ')),
    _el('td', (m.efforts ?? []).join(', ')),
    _el('td', m.context_window == null ? '' : numbers.format(m.context_window), 'num'),
    _el('td', m.max_output == null ? '' : numbers.format(m.max_output), 'num'),
    _el('td', m.pricing?.input == null ? '' : prices.format(m.pricing.input), 'num'),
    _el('td', m.pricing?.output == null ? '' : prices.format(m.pricing.output), 'num'),
    _badges(m),
  )
  return tr
}

function _badges(m) {
  const td = document.createElement('td')
  const badge = (text, kind) => td.append(_el('span', text, `badge ${kind}`))
  if (m.experimental) {
    // The web UI listing gives the experimental fields at the top, the admin listing as the catalog has them.
    const detail = [m.stability, m.experimental_since && `since ${m.experimental_since}`].filter(Boolean).join(', ')
    badge(detail ? `experimental (${detail})` : 'experimental', 'experimental')
  }
  const d = deprecationOf(m)
  if (d) {
    const replacement = d.replacement ? `, use ${d.replacement}` : ''
    badge(d.state === 'retired' ? `retired since ${d.sunset}${replacement}` : `deprecated: sunset ${d.sunset}${replacement}`, d.state)
  }
  // Only the admin listing knows the status of models it does not list.
  if (m.status) {
    if (!m.status.provider_configured) badge('provider not configured', 'unconfigured')
    if (!m.status.active) badge('inactive', 'inactive')
    if (!m.status.listed) badge('not listed', 'unlisted')
  }
  return td
}

function _el(tag, text, className) {
  const el = document.createElement(tag)
  el.textContent = text
  if (className) el.className = className
  return el
}
