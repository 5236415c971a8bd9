// Calls to the gateway's JSON API, each with the bearer token it needs.

// A call still unanswered after this long counts as no answer.
const TIMEOUT_MS = 15_000

/** An API answer that was not 2xx (status 0: no answer at all), with the gateway's own message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

/** GETs (or, with `body`, POSTs as JSON) `path` with `token` as a bearer token; resolves to the parsed JSON. */
export async function api(path, { token = '', body } = {}) {
  const headers = {}
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res
  try {
    res = await fetch(path, { method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS) })
  } catch (error) {
    throw new ApiError(0, `the gateway did not answer (${error.message})`)
  }
  const text = await res.text()
  let data
  try {
    data = JSON.parse(text)
  } catch {
    data = undefined
  }
  if (!res.ok) throw new ApiError(res.status, _message(data) ?? `${res.status} ${res.statusText}`)
  return data
}

// Errors under /api are `{"error": "..."}`; under /v1 OpenAI's `{"error": {"message"}}`.
function _message(data) {
  const error = data?.error
  if (typeof error === 'string') return error
  if (typeof error?.message === 'string') return error.message
  return undefined
}
