import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { nodeHandler } from '../../src/node-handler.ts'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { ACME_KEY, CLAUDE_KEY, compileOk, mockServer, NOW, until } from '../_setup.ts'
import { otlpTraces } from '../_otlp.ts'

const catalog = compileOk(readFileSync(new URL('../fixtures/routing.yaml', import.meta.url), 'utf8'))
const PROMPT = 'a-prompt-canary-3f9c1d'
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const CLIENT_SPAN = '00f067aa0ba902b7'

// A local OTLP/HTTP receiver: every body the exporter POSTs to /v1/traces (protobuf or JSON, as
// its content type says), in OTLP JSON's shape, its bytes and content type beside it.
let received: { raw: string; type: string; json: any }[] = []
let receiver: ReturnType<typeof createServer>
let receiverUrl: string
let a: Awaited<ReturnType<typeof mockServer>>
let b: Awaited<ReturnType<typeof mockServer>>
beforeAll(async () => {
  a = await mockServer()
  b = await mockServer()
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (d: Buffer) => chunks.push(d))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const type = req.headers['content-type'] ?? ''
      if (req.url === '/v1/traces') received.push({ raw: body.toString('utf8'), type, json: otlpTraces(body, type) })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
})
afterAll(async () => {
  await a.close()
  await b.close()
  await new Promise((resolve) => receiver.close(resolve))
})
beforeEach(() => {
  received = []
  for (const m of [a, b]) (m.seen.length = 0), m.failAll()
})

// A gateway with `env`, its client, its log lines, and `done()`: closes it (which sends every span still buffered).
async function gateway(env: Record<string, string>) {
  const all = { ACME_API_KEY: ACME_KEY, CLAUDE_API_KEY: CLAUDE_KEY, A_BASE_URL: `${a.url}/v1`, B_BASE_URL: `${b.url}/v1`, CLAUDE_BASE_URL: a.url, ...env }
  const lines: string[] = []
  const { app, gateway } = createApp({ catalog, env: all, now: () => NOW, log: (line) => lines.push(line) })
  await gateway.tracing.ready
  const server = createServer(nodeHandler(app))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` } })
  const done = async () => {
    await new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())))
    await gateway.close()
  }
  return { gateway, client, done, url, lines }
}

interface Span { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: Record<string, unknown>; status?: { code?: number } }
// The spans received, their attributes as plain values.
function spans(): Span[] {
  return received.flatMap((r) => r.json.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans))).map((s: any) => ({
    ...s,
    attributes: Object.fromEntries(s.attributes.map((kv: any) => [kv.key, Object.values(kv.value)[0]])),
  }))
}
const user = (content: string) => [{ role: 'user' as const, content }]
// A chat completion posted to the gateway at `url` with `headers` (a traceparent, say).
const post = (url: string, headers: Record<string, string> = {}) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'spread', messages: user('x') }) })
// What a gateway warned of, in its log.
const warnings = (lines: string[]) => lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'warn').map((l) => l.message as string)

describe('OpenTelemetry traces', () => {
  it.each([
    ['protobuf, the default', {}, 'application/x-protobuf'],
    ['JSON, as OTEL_EXPORTER_OTLP_PROTOCOL=http/json asks', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'application/json'],
  ])('one span per request, a child per upstream attempt (the failed one and the fallback that served), under the client\'s traceparent, passed to the upstream; sent as OTLP %s', async (_, protocol, type) => {
    const gw = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_SERVICE_NAME: 'gateway-under-test', ...protocol })
    a.fail({ status: 500 })
    await gw.client.chat.completions.create({ model: 'primary', messages: user(PROMPT), max_completion_tokens: 50 })
    await gw.done()
    const all = spans()
    const request = all.find((s) => s.kind === 2)!
    expect(request).toMatchObject({ traceId: CLIENT_TRACE, parentSpanId: CLIENT_SPAN, name: 'POST /v1/chat/completions', attributes: { 'http.request.method': 'POST', 'http.route': '/v1/chat/completions' } })
    expect(Number(request.attributes['http.response.status_code'])).toBe(200)
    const attempts = all.filter((s) => s.kind === 3)
    expect(attempts.map((s) => [s.name, s.parentSpanId, s.traceId])).toEqual([
      ['chat primary', request.spanId, CLIENT_TRACE],
      ['chat claude-fb', request.spanId, CLIENT_TRACE],
    ])
    expect(attempts[0]!.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'a', 'gen_ai.request.model': 'primary', 'error.type': 'upstream_error', 'gateway.deployment': 'a/primary' })
    expect(attempts[0]!.status?.code).toBe(2) // error
    expect(attempts[1]!.attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': 'claude-fb', 'gen_ai.response.model': 'claude-fb' })
    expect(Number(attempts[1]!.attributes['gen_ai.usage.input_tokens'])).toBeGreaterThan(0)
    expect(Number(attempts[1]!.attributes['gen_ai.usage.output_tokens'])).toBeGreaterThan(0)
    expect(received.length).toBeGreaterThan(0)
    expect(received.map((r) => r.type)).toEqual(received.map(() => type))
    expect(received[0]!.json.resourceSpans[0].resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'gateway-under-test' } })
    // Each upstream got the traceparent of its own attempt's span.
    expect(a.seen.map((s) => s.headers.traceparent)).toEqual(attempts.map((s) => `00-${CLIENT_TRACE}-${s.spanId}-01`))
    // No prompt in any span by default.
    expect(received.map((r) => r.raw).join('')).not.toContain(PROMPT)
  })

  it('a stream\'s attempt records its usage and time to first token, and its request span ends with the stream', async () => {
    const gw = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl })
    // Read to its very end (an SDK may stop at [DONE] and drop the connection, a cancel instead).
    expect(await (await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'spread', messages: user(PROMPT), stream: true }) })).text()).toContain('[DONE]')
    // The stream's end goes out before its upstream answer has ended and the call is counted (its
    // request span ends then): closed before, the gateway would have no span to send.
    await until(() => Object.values(gw.gateway.stats.snapshot(NOW).requests_by_model).some((n) => n > 0), 'the stream to be counted')
    await gw.done()
    const [attempt] = spans().filter((s) => s.kind === 3)
    expect(attempt!.attributes).toMatchObject({ 'gen_ai.request.model': 'spread', 'gen_ai.request.stream': true, 'gateway.result': 'ok' })
    expect(Number(attempt!.attributes['gen_ai.server.time_to_first_token'])).toBeGreaterThan(0)
    expect(Number(attempt!.attributes['gen_ai.usage.output_tokens'])).toBeGreaterThan(0)
    const request = spans().find((s) => s.kind === 2) as Span & { endTimeUnixNano: string }
    // Not at the headers, but with the stream: after the attempt's end. The SDK anchors each span's
    // clock to Date.now() at its start (whole milliseconds), so two spans' times agree within 1 ms.
    expect(BigInt(request.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt((spans().find((s) => s.kind === 3) as Span & { endTimeUnixNano: string }).endTimeUnixNano) - 1_000_000n)
    expect(received.map((r) => r.raw).join('')).not.toContain(PROMPT)
  })

  it('a request without a traceparent starts a trace of its own; one the client did not sample goes on unsampled, and no span is sent', async () => {
    const gw = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl })
    expect((await post(gw.url)).status).toBe(200)
    const unsampled = '11111111111111111111111111111111'
    expect((await post(gw.url, { traceparent: `00-${unsampled}-${CLIENT_SPAN}-00` })).status).toBe(200)
    await gw.done()
    const [root, attempt, ...more] = spans().sort((x, y) => x.kind - y.kind)
    expect(more).toEqual([])
    expect(root!.parentSpanId ?? '').toBe('')
    expect(attempt).toMatchObject({ traceId: root!.traceId, parentSpanId: root!.spanId })
    // Each request's upstream call (on either deployment) carried its own trace on.
    const sent = a.seen.concat(b.seen).map((s) => s.headers.traceparent).sort((x, y) => Number(x?.includes(unsampled)) - Number(y?.includes(unsampled)))
    expect(sent[0]).toBe(`00-${root!.traceId}-${attempt!.spanId}-01`)
    expect(sent[1]).toMatch(new RegExp(`^00-${unsampled}-(?!${CLIENT_SPAN})[0-9a-f]{16}-00$`))
  })

  it('samples as OTEL_TRACES_SAMPLER says: always_off sends nothing, a parent-based ratio of 0 follows a sampled client only, a name it does not know samples all and is warned of', async () => {
    const sampled = { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` }
    const off = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_TRACES_SAMPLER: 'always_off' })
    expect((await post(off.url, sampled)).status).toBe(200)
    await off.done()
    expect(received).toEqual([])
    // The upstream still hears of the trace, unsampled.
    expect(a.seen.concat(b.seen).map((s) => s.headers.traceparent)).toEqual([expect.stringMatching(new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-00$`))])

    const ratio = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' })
    expect((await post(ratio.url)).status).toBe(200)
    expect((await post(ratio.url, sampled)).status).toBe(200)
    await ratio.done()
    expect(new Set(spans().map((s) => s.traceId))).toEqual(new Set([CLIENT_TRACE]))
    expect(warnings(ratio.lines)).toEqual([])

    received = []
    const unknown = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_TRACES_SAMPLER: 'sometimes', OTEL_TRACES_SAMPLER_ARG: 'half' })
    expect((await post(unknown.url)).status).toBe(200)
    await unknown.done()
    expect(spans().map((s) => s.kind).sort()).toEqual([2, 3])
    expect(warnings(unknown.lines)).toEqual(["OTEL_TRACES_SAMPLER 'sometimes' is none of always_on, parentbased_always_on, always_off, parentbased_always_off, traceidratio, parentbased_traceidratio: parentbased_always_on is used"])
  })

  it('a plain traceidratio decides alone: with a ratio of 0 not even a sampled client\'s trace is kept', async () => {
    const gw = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_TRACES_SAMPLER: 'TraceIdRatio ', OTEL_TRACES_SAMPLER_ARG: ' 0 ' })
    await gw.client.chat.completions.create({ model: 'spread', messages: user('x') })
    await gw.done()
    expect(received).toEqual([])
    expect(warnings(gw.lines)).toEqual([])
  })

  it.each(['half', '-1', '1.5'])('warns of an OTEL_TRACES_SAMPLER_ARG of %s, not a ratio from 0 to 1, and samples every trace', async (arg) => {
    const gw = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg })
    await gw.client.chat.completions.create({ model: 'spread', messages: user('x') })
    await gw.done()
    expect(spans()).toHaveLength(2)
    expect(warnings(gw.lines)).toEqual([`OTEL_TRACES_SAMPLER_ARG '${arg}' is not a ratio from 0 to 1: 1 is used (every trace sampled)`])
  })

  it('sends protobuf for an OTLP protocol it does not speak (gRPC, or a name it does not know), warning of it; the traces\' own variable wins over the general one', async () => {
    for (const [env, type, warned] of [
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'application/x-protobuf', "OTEL_EXPORTER_OTLP_PROTOCOL 'grpc': OTLP over gRPC is not supported, point the endpoint at the collector's OTLP/HTTP port (4318); http/protobuf is used"],
      [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/xml', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'application/x-protobuf', "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL 'http/xml': neither http/protobuf nor http/json; http/protobuf is used"],
      [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: ' HTTP/JSON ', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, 'application/json', undefined],
      [{ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '  ', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'application/json', undefined], // blank is unset
    ] as const) {
      received = []
      const gw = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, ...env })
      expect((await post(gw.url)).status).toBe(200)
      await gw.done()
      expect(warnings(gw.lines)).toEqual(warned ? [warned] : [])
      expect(received.map((r) => r.type)).toEqual([type])
      expect(spans().map((s) => s.kind).sort()).toEqual([2, 3])
    }
  })

  it('passes the client\'s tracestate on to the upstream beside the attempt\'s traceparent', async () => {
    const gw = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl })
    const tracestate = 'vendor=opaque-1,other=2'
    expect((await post(gw.url, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate })).status).toBe(200)
    await gw.done()
    const [attempt] = spans().filter((s) => s.kind === 3)
    expect(a.seen.concat(b.seen).map((s) => [s.headers.traceparent, s.headers.tracestate])).toEqual([[`00-${CLIENT_TRACE}-${attempt!.spanId}-01`, tracestate]])
  })

  it('takes provider keys out of what a span says of a failure', async () => {
    const gw = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl })
    a.fail({ status: 400, body: { error: { message: `bad key ${ACME_KEY} given` } } })
    await expect(gw.client.chat.completions.create({ model: 'spread', messages: user('x') })).rejects.toMatchObject({ status: 400 })
    await gw.done()
    const [attempt] = spans().filter((s) => s.kind === 3)
    expect(attempt!.status).toMatchObject({ code: 2, message: expect.stringContaining('[redacted]') })
    expect(received.map((r) => r.raw).join('')).not.toContain(ACME_KEY)
  })

  it('puts prompts and answers in spans only when content capture is switched on', async () => {
    const gw = await gateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' })
    await gw.client.chat.completions.create({ model: 'spread', messages: user(PROMPT) })
    await gw.done()
    const [attempt] = spans().filter((s) => s.kind === 3)
    expect(attempt!.attributes['gen_ai.input.messages']).toBe(JSON.stringify(user(PROMPT)))
    expect(attempt!.attributes['gen_ai.output.messages']).toContain(`You said: ${PROMPT}`)
  })

  it('without an endpoint, starts nothing and sends nothing', async () => {
    const gw = await gateway({})
    await gw.client.chat.completions.create({ model: 'spread', messages: user('untraced') })
    expect(gw.gateway.tracing.current).toBeUndefined()
    expect(a.seen.concat(b.seen).every((s) => !('traceparent' in s.headers))).toBe(true)
    await gw.done()
    expect(received).toEqual([])
  })
})
