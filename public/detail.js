// A model's detail view: every field the API gave (rendered generically, so new catalog
// fields show without a change here) and snippets that call it through this gateway.

// Which endpoint a snippet calls: the first of the model's `apis` in this order of preference.
const API_ORDER = ['chat', 'responses', 'completions', 'embeddings', 'rerank', 'moderations']

// Each API's path, a minimal body, and the OpenAI SDK call (rerank is not in the SDK).
const CALLS = {
  chat: ['/chat/completions', (model) => ({ model, messages: [{ role: 'user', content: 'hello' }] }), 'client.chat.completions.create'],
  responses: ['/responses', (model) => ({ model, input: 'hello' }), 'client.responses.create'],
  completions: ['/completions', (model) => ({ model, prompt: 'hello' }), 'client.completions.create'],
  embeddings: ['/embeddings', (model) => ({ model, input: 'hello' }), 'client.embeddings.create'],
  moderations: ['/moderations', (model) => ({ model, input: 'hello' }), 'client.moderations.create'],
  rerank: ['/rerank', (model) => ({ model, query: 'red apple', documents: ['pear', 'apple pie'] }), null],
}

/** The detail dialog; `open(model, needsKey)` fills and shows it (Escape or Close closes it). */
export function detailView() {
  const dialog = document.getElementById('detail')
  const status = document.getElementById('copy-status')
  document.getElementById('detail-close').addEventListener('click', () => dialog.close())
  for (const button of dialog.querySelectorAll('button[data-copy]')) {
    button.addEventListener('click', () => _copy(document.getElementById(button.dataset.copy), status))
  }
  return {
    open(model, needsKey) {
      status.textContent = ''
      document.getElementById('detail-title').textContent = model.name ? `${model.name} (${model.id})` : model.id
      document.getElementById('detail-fields').replaceChildren(..._fields(model))
      const [curl, sdk] = snippets(model, location.origin, needsKey)
      document.getElementById('snippet-curl').textContent = curl
      document.getElementById('snippet-sdk').textContent = sdk
      dialog.showModal()
    },
  }
}

/** A curl command line and an OpenAI SDK (JavaScript) program calling `model` at `origin`. */
export function snippets(model, origin, needsKey) {
  const api = API_ORDER.find((a) => model.apis.includes(a)) ?? 'chat'
  const [path, body, method] = CALLS[api]
  const json = JSON.stringify(body(model.id))
  // The key itself never goes into a snippet: it names the variable to set.
  const auth = needsKey ? ` \\\n  -H "authorization: Bearer $GATEWAY_API_KEY"` : ''
  const curl = `curl ${origin}/v1${path} \\\n  -H 'content-type: application/json'${auth} \\\n  -d '${json.replaceAll("'", "'\\''")}'`
  const args = JSON.stringify(body(model.id), null, 2)
  const call = method ? `await ${method}(${args})` : `await client.post('${path}', { body: ${args} })`
  const sdk = [
    "import OpenAI from 'openai'",
    '',
    `const client = new OpenAI({ baseURL: '${origin}/v1', apiKey: ${needsKey ? 'process.env.GATEWAY_API_KEY' : "'unused'"} })`,
    `const result = ${call}`,
    'console.log(result)',
  ].join('\n')
  return [curl, sdk]
}

// Objects become nested lists, arrays comma-separated text, absent values a dash.
function _fields(object) {
  return Object.entries(object).flatMap(([key, value]) => {
    const dt = document.createElement('dt')
    dt.textContent = key
    const dd = document.createElement('dd')
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const dl = document.createElement('dl')
      dl.append(..._fields(value))
      dd.append(dl)
    } else if (Array.isArray(value)) {
      dd.textContent = value.length ? value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ') : '(none)'
    } else {
      dd.textContent = value === null || value === undefined || value === '' ? '(none)' : String(value)
    }
    return [dt, dd]
  })
}

// Feedback goes to the dialog's own status line: while the dialog is open the page behind it is inert.
// Browsers offer the clipboard only to secure pages (HTTPS, localhost): elsewhere the snippet is
// selected for Ctrl+C.
async function _copy(pre, status) {
  try {
    if (!navigator.clipboard) throw new Error('this page is not served over HTTPS or from localhost')
    await navigator.clipboard.writeText(pre.textContent)
    status.textContent = 'Copied to the clipboard.'
  } catch (error) {
    getSelection().selectAllChildren(pre)
    status.textContent = `The browser did not allow copying (${error.message}): the snippet is selected, press Ctrl+C (or Cmd+C) to copy it.`
  }
}
