// OpenTelemetry traces, when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set: one
// span per request, a child per upstream attempt, with the GenAI semantic conventions'
// attributes, exported over OTLP/HTTP (protobuf, or JSON). The SDK is loaded only then: unset, nothing is loaded,
// nothing is sent, and each request pays one check of an empty slot.
import type { Span, SpanContext } from '@opentelemetry/api'
import type { Sampler } from '@opentelemetry/sdk-trace'
import type { Env } from './catalog/visibility.ts'
import type { RequestHeaders } from './request-view.ts'

/** What the request path records: a request's span, and its attempts' spans under it. */
export interface Tracer {
  /** The span of one request (kind server), a child of the client's `traceparent` when it sends one. */
  request(headers: RequestHeaders, method: string): RequestTrace
  /** Sends what is still buffered, and stops. */
  shutdown(): Promise<void>
}

export interface RequestTrace {
  /** A child span for one upstream call (kind client), and the W3C headers that carry it to the upstream. */
  attempt(name: string, attributes: Readonly<Record<string, string | number | boolean>>): AttemptTrace
  end(route: string, status: number): void
}

export interface AttemptTrace {
  /** `traceparent`, and the client's `tracestate` when it sent one (none for a span context that is not valid). */
  readonly headers: Readonly<Record<string, string>>
  set(attributes: Readonly<Record<string, string | number | boolean | undefined>>): void
  /** Ends the span as failed (`error.type`: the error's code, else its status), with `message` (keys already taken out). */
  fail(error: unknown, message: string): void
  end(): void
}

/** Whether the environment asks for traces: an OTLP endpoint, and the SDK not disabled. */
export function tracingWanted(env: Env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT) && env.OTEL_SDK_DISABLED !== 'true' && env.OTEL_TRACES_EXPORTER !== 'none'
}

/**
 * The tracer for `env`: spans sampled as `OTEL_TRACES_SAMPLER` says (see `_sampler`), batched
 * (`OTEL_BSP_*`: delay, timeout, queue and batch sizes) to the OTLP/HTTP endpoint
 * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + /v1/traces;
 * `OTEL_EXPORTER_OTLP_HEADERS`; encoded as `OTEL_EXPORTER_OTLP_PROTOCOL` says, see `_protocol`),
 * under `OTEL_SERVICE_NAME` (default model-catalog-gateway).
 * A setting it cannot use is told to `warn`, and its default used.
 */
export async function startTracing(env: Env, version: string, warn: (message: string) => void): Promise<Tracer> {
  const [api, sdk, { OTLPTraceExporter }, { resourceFromAttributes }, { W3CTraceContextPropagator }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    _protocol(env, warn) === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ])
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || `${env.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/+$/, '')}/v1/traces`
  const headers = Object.fromEntries((env.OTEL_EXPORTER_OTLP_TRACES_HEADERS || env.OTEL_EXPORTER_OTLP_HEADERS || '').split(',').filter((p) => p.includes('=')).map((p) => {
    const at = p.indexOf('=')
    return [decodeURIComponent(p.slice(0, at).trim()), decodeURIComponent(p.slice(at + 1).trim())]
  }))
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'model-catalog-gateway', 'service.version': version }),
    sampler: _sampler(env, sdk, warn),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url, headers }), ..._batching(env) })],
  })
  const tracer = provider.getTracer('model-catalog-gateway')
  const propagator = new W3CTraceContextPropagator()
  const getter = { get: (h: RequestHeaders, key: string) => h.get(key) ?? undefined, keys: (h: RequestHeaders) => [...h].map(([name]) => name) }
  return {
    request(requestHeaders, method) {
      // Without a client's traceparent there is nothing to extract: the request is a root.
      const parent = requestHeaders.has('traceparent') ? propagator.extract(api.ROOT_CONTEXT, requestHeaders, getter) : api.ROOT_CONTEXT
      const span = tracer.startSpan(method, { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent)
      const inSpan = api.trace.setSpan(parent, span)
      return {
        attempt(name, attributes) {
          const child = tracer.startSpan(name, { kind: api.SpanKind.CLIENT, attributes }, inSpan)
          const context = child.spanContext()
          return _attempt(child, api.isSpanContextValid(context) ? _traceHeaders(context) : {}, api.SpanStatusCode.ERROR)
        },
        end(route, status) {
          span.updateName(`${method} ${route}`)
          span.setAttributes({ 'http.route': route, 'http.response.status_code': status })
          if (status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR })
          span.end()
        },
      }
    },
    shutdown: () => provider.shutdown(),
  }
}

// The sampler OTEL_TRACES_SAMPLER names, as the OpenTelemetry specification defines them: always_on,
// always_off, traceidratio (the ratio OTEL_TRACES_SAMPLER_ARG gives, 0 to 1; unset, or anything
// else, 1), each also parentbased_ (the client's traceparent decides when it sends one). Unset,
// parentbased_always_on. The SDK reads no environment itself.
function _sampler(env: Env, sdk: typeof import('@opentelemetry/sdk-trace'), warn: (message: string) => void): Sampler {
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim()
  const roots = new Map<string, () => Sampler>([
    ['always_on', () => new sdk.AlwaysOnSampler()],
    ['always_off', () => new sdk.AlwaysOffSampler()],
    ['traceidratio', () => {
      const ratio = arg ? Number(arg) : 1
      if (ratio >= 0 && ratio <= 1) return new sdk.TraceIdRatioBasedSampler(ratio)
      warn(`OTEL_TRACES_SAMPLER_ARG '${arg}' is not a ratio from 0 to 1: 1 is used (every trace sampled)`)
      return new sdk.TraceIdRatioBasedSampler(1)
    }],
  ])
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on'
  const root = roots.get(name.replace(/^parentbased_/, ''))
  if (!root) {
    warn(`OTEL_TRACES_SAMPLER '${name}' is none of ${[...roots.keys()].flatMap((n) => [n, `parentbased_${n}`]).join(', ')}: parentbased_always_on is used`)
    return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() })
  }
  return name.startsWith('parentbased_') ? new sdk.ParentBasedSampler({ root: root() }) : root()
}

// The OTLP/HTTP encoding OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (else OTEL_EXPORTER_OTLP_PROTOCOL)
// names: http/protobuf, the specification's default (smaller, and cheaper to make), or
// http/json. gRPC is not spoken: http/protobuf is sent, and `warn` says so.
function _protocol(env: Env, warn: (message: string) => void): 'http/protobuf' | 'http/json' {
  const variable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL'
  const name = (env[variable] ?? '').trim().toLowerCase()
  if (name === '' || name === 'http/protobuf' || name === 'http/json') return name || 'http/protobuf'
  const why = name === 'grpc' ? 'OTLP over gRPC is not supported, point the endpoint at the collector\'s OTLP/HTTP port (4318)' : 'neither http/protobuf nor http/json'
  warn(`${variable} '${name}': ${why}; http/protobuf is used`)
  return 'http/protobuf'
}

// The batch processor's OTEL_BSP_* settings, where set.
function _batching(env: Env): Record<string, number> {
  const names = { scheduledDelayMillis: 'OTEL_BSP_SCHEDULE_DELAY', exportTimeoutMillis: 'OTEL_BSP_EXPORT_TIMEOUT', maxQueueSize: 'OTEL_BSP_MAX_QUEUE_SIZE', maxExportBatchSize: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' }
  return Object.fromEntries(Object.entries(names).flatMap(([option, name]) => (Number(env[name]) > 0 ? [[option, Number(env[name])]] : [])))
}

// The W3C headers of a span (what the propagator's inject writes, without building a context for it).
function _traceHeaders(s: SpanContext): Record<string, string> {
  const traceparent = `00-${s.traceId}-${s.spanId}-${s.traceFlags < 16 ? '0' : ''}${s.traceFlags.toString(16)}`
  const tracestate = s.traceState?.serialize()
  return tracestate ? { traceparent, tracestate } : { traceparent }
}

function _attempt(span: Span, headers: Record<string, string>, errorCode: number): AttemptTrace {
  return {
    headers,
    set(attributes) {
      for (const key in attributes) if (attributes[key] !== undefined) span.setAttribute(key, attributes[key])
    },
    fail(error, message) {
      const e = error as { status?: number; data?: { code?: string } }
      span.setAttribute('error.type', e?.data?.code ?? (e?.status ? String(e.status) : 'aborted'))
      span.setStatus({ code: errorCode, message })
      span.end()
    },
    end: () => span.end(),
  }
}
