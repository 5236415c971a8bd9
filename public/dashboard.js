// The dashboard's entry: who the page calls as (client key, admin token), what it loads,
// and the status line that says what went wrong.
import { api } from './api.js'
import { catalogView } from './catalog.js'
import { detailView } from './detail.js'
import { renderSunsets } from './lifecycle.js'
import { renderUsage } from './usage.js'

// The client key lives in this tab's session storage (never in the URL); the admin token
// only in this page's memory.
const KEY_STORAGE = 'gateway-api-key'
// How often the usage panel refreshes, in seconds: `?refresh=<seconds>` (at least 0.2). Default 5.
const REFRESH_MS = Math.max(Number(new URLSearchParams(location.search).get('refresh')) || 5, 0.2) * 1000

// What each source of errors is called in the status line.
const LABELS = { models: 'Loading the models', config: 'Loading the settings', usage: 'Loading the usage', expose: 'Changing the experimental setting', admin: 'The admin token' }

// keyRequired: a client route has answered 401, so snippets must carry a key.
const state = { key: sessionStorage.getItem(KEY_STORAGE) ?? '', admin: '', keyRequired: false }
// Each load takes a ticket; an answer whose ticket is no longer the newest is dropped, so a slow
// earlier answer never overwrites a newer one (after the token changed, say).
const tickets = { models: 0, config: 0, usage: 0 }
const messages = new Map()
const $ = (id) => document.getElementById(id)

const detail = detailView()
const catalog = catalogView((model) => detail.open(model, state.keyRequired || Boolean(state.key)))

/** Sets (or with no text clears) the status line's message from `source`. */
function setStatus(source, text, ok = false) {
  if (text) messages.set(source, { text, ok })
  else messages.delete(source)
  const all = [...messages.values()]
  const shown = all.map((m) => m.text).join('\n')
  // Written only when it changes: the line is live, and a screen reader reads every write.
  if ($('status').textContent !== shown) $('status').textContent = shown
  $('status').classList.toggle('ok', all.length > 0 && all.every((m) => m.ok))
}

// A 401 from a client route means a key is needed (or the one given is wrong): ask for it.
function report(source, error) {
  if (error.status === 401 && source !== 'admin' && source !== 'expose') {
    state.keyRequired = true
    const form = $('key-form')
    if (form.hidden) {
      form.hidden = false
      $('api-key').focus()
    }
    setStatus('auth', state.key ? `The gateway refused this API key: ${error.message}` : `This gateway needs an API key: enter one of its keys above (${error.message}).`)
    return
  }
  setStatus(source, `${LABELS[source]} failed (${error.status ? `HTTP ${error.status}` : 'no answer'}): ${error.message}`)
}

// Client routes take a client key; with client keys configured the admin token opens them too.
const clientToken = () => state.key || state.admin

async function loadModels() {
  const ticket = ++tickets.models
  try {
    const body = state.admin ? await api('/api/admin/models', { token: state.admin }) : await api('/api/models', { token: clientToken() })
    if (ticket !== tickets.models) return
    catalog.render(body.models)
    renderSunsets(body.models)
    setStatus('models', '')
    setStatus('auth', '')
  } catch (error) {
    if (ticket !== tickets.models) return
    if (state.admin && (error.status === 401 || error.status === 403)) {
      _setAdmin('')
      setStatus('admin', `The admin token was refused (HTTP ${error.status}): ${error.message}`)
      return loadModels()
    }
    catalog.render([])
    renderSunsets([])
    report('models', error)
  }
}

async function loadConfig() {
  const ticket = ++tickets.config
  try {
    const config = await api('/api/config', { token: clientToken() })
    if (ticket !== tickets.config) return
    $('catalog-version').textContent = config.catalog_version
    $('experimental-state').textContent = config.expose_experimental_models ? 'listed' : 'hidden'
    $('expose').checked = config.expose_experimental_models
    setStatus('config', '')
  } catch (error) {
    if (ticket === tickets.config) report('config', error)
  }
}

async function refreshUsage() {
  const ticket = ++tickets.usage
  try {
    const stats = await api('/api/stats', { token: clientToken() })
    if (ticket !== tickets.usage) return
    renderUsage(stats)
    setStatus('usage', '')
  } catch (error) {
    if (ticket === tickets.usage) report('usage', error)
  }
}

function reloadAll() {
  return Promise.all([loadConfig(), loadModels(), refreshUsage()])
}

function _setAdmin(token) {
  state.admin = token
  $('admin-token').value = token
  $('expose').disabled = !token
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault()
  state.key = $('api-key').value.trim()
  if (state.key) sessionStorage.setItem(KEY_STORAGE, state.key)
  else sessionStorage.removeItem(KEY_STORAGE)
  setStatus('auth', '')
  void reloadAll()
})
$('key-forget').addEventListener('click', () => {
  state.key = ''
  $('api-key').value = ''
  sessionStorage.removeItem(KEY_STORAGE)
  void reloadAll()
})
$('admin-form').addEventListener('submit', (event) => {
  event.preventDefault()
  _setAdmin($('admin-token').value.trim())
  setStatus('admin', '')
  void reloadAll()
})
$('admin-forget').addEventListener('click', () => {
  _setAdmin('')
  setStatus('admin', '')
  setStatus('expose', '')
  void reloadAll()
})
$('expose').addEventListener('change', async () => {
  const wanted = $('expose').checked
  try {
    const answer = await api('/api/config', { token: state.admin, body: { expose_experimental_models: wanted } })
    setStatus('expose', `Experimental models are now ${wanted ? 'listed' : 'hidden'}, on ${answer.applied_to}.`, true)
  } catch (error) {
    $('expose').checked = !wanted
    report('expose', error)
  }
  await Promise.all([loadConfig(), loadModels()])
})

if (state.key) {
  $('key-form').hidden = false
  $('api-key').value = state.key
}
// The usage panel refreshes on its own: the next turn starts when the last answer is in (a slow
// gateway never gets a pile of requests), skipping turns while the tab is hidden, and at once
// when the tab comes back.
async function poll() {
  if (!document.hidden) await refreshUsage()
  setTimeout(poll, REFRESH_MS)
}
document.addEventListener('visibilitychange', () => void (!document.hidden && refreshUsage()))
void reloadAll()
setTimeout(poll, REFRESH_MS)
