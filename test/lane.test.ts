// The listings' lane (src/lane.ts) answers a plain GET of a listing on node:http, without h3:
// every answer it gives must be the one the app gives the same request (status, head fields,
// body, log line, counters), and whatever it does not take must reach the app.
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app.ts'
import { nodeHandler } from '../src/node-handler.ts'
import { ACME_KEY, ADMIN, CLAUDE_KEY, NOW, proxyCatalog } from './_setup.ts'
import { TEAM_KEYS, teamsPolicy } from './policy/_teams.ts'

const ORIGIN = 'https://console.example'
const logs: string[] = []
const { app, gateway } = createApp({
  catalog: proxyCatalog,
  env: { ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY, ADMIN_TOKEN: ADMIN, CORS_ORIGINS: ORIGIN },
  now: () => NOW,
  log: (line) => logs.push(line),
  policy: teamsPolicy,
})
const fetched = vi.spyOn(app, 'fetch')
const server = createServer(nodeHandler(app))
let port: number
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  await gateway.close()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
  /** Over HTTP: the body's declared length (a listing is never sent chunked). */
  length?: string
}

// What Node adds to every answer it writes (absent from the app's Response).
const NODE_HEAD = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])

// Over HTTP, head fields as given (a name may repeat): what the node handler answers.
function overHttp(method: string, path: string, head: readonly [string, string][] = []): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method, path, headers: ['host', `127.0.0.1:${port}`, ...head.flat()] }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: _own(Object.entries(res.headers) as [string, string][]), body, length: res.headers['content-length'] }))
    })
    req.on('error', reject)
    req.end()
  })
}

// The app's own answer to the same request (h3, as any route not on the lane is answered).
async function fromApp(method: string, path: string, head: readonly [string, string][] = []): Promise<Answer> {
  const response = await app.fetch(new Request(`http://127.0.0.1${path}`, { method, headers: new Headers(head as [string, string][]) }))
  return { status: response.status, headers: _own([...response.headers]), body: await response.text() }
}

function _own(headers: readonly [string, string][]): Record<string, string> {
  return Object.fromEntries(headers.filter(([name]) => !NODE_HEAD.has(name)).sort(([a], [b]) => a.localeCompare(b)))
}

// A log line without what differs between any two requests.
function _logged(line: string) {
  const { time: _t, request_id: _id, duration_ms: _d, ...rest } = JSON.parse(line) as Record<string, unknown>
  return rest
}

const bearer = (key: string): [string, string] => ['authorization', `Bearer ${key}`]

describe('the listings lane', () => {
  // What is asked, and the status the answer must have (and, for a refusal, what it says).
  const KEY = 'a valid API key is required'
  const cases: [string, string, [string, string][], number, string?][] = [
    ['the OpenAI listing, to the admin token', '/v1/models', [bearer(ADMIN)], 200],
    ['the OpenAI listing, to a team (its own models)', '/v1/models', [bearer(TEAM_KEYS.gamma)], 200],
    ["the OpenAI listing, to a team with a request limit (its remaining requests, read from the store)", '/v1/models', [bearer(TEAM_KEYS.alpha)], 200],
    ["the OpenAI listing in Anthropic's shape", '/v1/models', [['x-api-key', TEAM_KEYS.beta], ['anthropic-version', '2023-06-01']], 200],
    ["Ollama's tags", '/api/tags', [bearer(TEAM_KEYS.gamma)], 200],
    ["the web UI's models", '/api/models', [bearer(TEAM_KEYS.gamma)], 200],
    ["LibreChat's models by endpoint", '/api/models/by-endpoint', [bearer(TEAM_KEYS.gamma)], 200],
    ['a listing to a listed origin, with its own request id', '/v1/models', [bearer(TEAM_KEYS.gamma), ['origin', ORIGIN], ['x-request-id', 'trace-42']], 200],
    ['a listing to an origin not listed, with an id too wild to echo', '/api/tags', [bearer(TEAM_KEYS.gamma), ['origin', 'https://elsewhere.example'], ['x-request-id', 'no spaces "here"']], 200],
    ['no key: 401 in the OpenAI dialect', '/v1/models', [], 401, KEY],
    ["no key: 401 in Ollama's dialect", '/api/tags', [], 401, KEY],
    ["no key, asked as Anthropic's client: 401 in Anthropic's dialect", '/v1/models', [['anthropic-version', '2023-06-01']], 401, KEY],
    ['a wrong key: 401', '/api/models', [bearer('not-a-key-0123456789')], 401, KEY],
    ['two Authorization fields (joined, as Fetch joins them: not a key)', '/v1/models', [bearer(TEAM_KEYS.gamma), bearer(TEAM_KEYS.gamma)], 401, KEY],
  ]

  it.each(cases)('answers %s as the app does, without the app', async (_, path, head, status, says) => {
    const before = fetched.mock.calls.length
    const mark = logs.length
    const lane = await overHttp('GET', path, head)
    expect(fetched.mock.calls.length).toBe(before) // the lane answered
    expect(lane.status).toBe(status)
    if (says) expect(lane.body).toContain(says)
    const own = await fromApp('GET', path, head)
    expect(fetched.mock.calls.length).toBe(before + 1)
    const id = (a: Answer) => a.headers['x-request-id']
    expect(id(lane)).toMatch(/^[\w.:-]+$/)
    expect(lane.length).toBe(String(Buffer.byteLength(lane.body)))
    expect({ ...lane, length: undefined, headers: { ...lane.headers, 'x-request-id': 'id' } }).toEqual({ ...own, headers: { ...own.headers, 'x-request-id': 'id' } })
    const given = head.find(([name]) => name === 'x-request-id')?.[1]
    if (given === 'trace-42') expect([id(lane), id(own)]).toEqual([given, given])
    expect(logs.length).toBe(mark + 2)
    expect(_logged(logs[mark]!)).toEqual(_logged(logs[mark + 1]!))
    expect(JSON.parse(logs[mark]!).request_id).toBe(id(lane))
  })

  it("answers 304 to a client whose copy is current, as the app does", async () => {
    const head: [string, string][] = [bearer(TEAM_KEYS.gamma)]
    const { headers } = await overHttp('GET', '/v1/models', head)
    const before = fetched.mock.calls.length
    const lane = await overHttp('GET', '/v1/models', [...head, ['if-none-match', `W/"other", ${headers.etag}`]])
    expect(fetched.mock.calls.length).toBe(before)
    expect(lane.status).toBe(304)
    expect(lane.body).toBe('')
    const own = await fromApp('GET', '/v1/models', [...head, ['if-none-match', `W/"other", ${headers.etag}`]])
    expect({ ...lane.headers, 'x-request-id': '' }).toEqual({ ...own.headers, 'x-request-id': '' })
  })

  it('leaves to the app a HEAD, a query, a path spelt otherwise and every other route', async () => {
    const head: [string, string][] = [bearer(TEAM_KEYS.gamma)]
    const cases: [string, string, number, string?][] = [
      ['HEAD', '/v1/models', 200],
      ['GET', '/v1/models?limit=1', 200],
      ['GET', '/v1/models/', 200], // h3 reads it as /v1/models
      ['GET', '/v1//models', 404, 'no route for GET /v1//models'],
      ['GET', '/v1/%6Dodels', 200], // h3 reads it as /v1/models
      ['POST', '/v1/models', 405, 'POST is not allowed here; use GET, HEAD'],
      ['GET', '/api/version', 200],
    ]
    for (const [method, path, status, says] of cases) {
      const before = fetched.mock.calls.length
      const answer = await overHttp(method, path, head)
      expect([method, path, answer.status, fetched.mock.calls.length]).toEqual([method, path, status, before + 1])
      if (method === 'HEAD') expect(answer.body).toBe('')
      if (says) expect(JSON.parse(answer.body).error.message).toBe(says)
    }
  })

  it("counts the lane's answers by their route, as the app's", async () => {
    const counts = async () => {
      const metrics = await (await app.fetch(new Request('http://127.0.0.1/metrics', { headers: { authorization: `Bearer ${ADMIN}` } }))).text()
      const count = (status: number) => Number(new RegExp(`^gateway_http_requests_total\\{method="GET",route="/api/tags",status="${status}"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ?? 0)
      return [count(200), count(401)] as const
    }
    const [ok, refused] = await counts()
    await overHttp('GET', '/api/tags', [bearer(TEAM_KEYS.gamma)])
    await overHttp('GET', '/api/tags', [])
    await overHttp('GET', '/api/tags', [bearer(TEAM_KEYS.gamma)])
    expect(await counts()).toEqual([ok + 2, refused + 1])
  })
})
