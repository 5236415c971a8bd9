// OpenTelemetry traces, when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set: one
// span per request, a child per upstream attempt, with the GenAI semantic conventions'
// attributes, exported over OTLP/HTTP. The SDK is loaded only then: unset, nothing is loaded,
// nothing is sent, and each request pays one check of an empty slot.
import type { Span, SpanContext } from '@opentelemetry/api'
import type { Env } from './catalog/visibility.ts'

/** What the request path records: a request's span, and its attempts' spans under it. */
export interface Tracer {
  /** The span of one request (kind server), a child of the client's `traceparent` when it sends one. */
  request(headers: Headers, method: string): RequestTrace
  /** Sends what is still buffered, and stops. */
  shutdown(): Promise<void>
}

export interface RequestTrace {
  /** A child span for one upstream call (kind client), and the `traceparent` that carries it to the upstream. */
  attempt(name: string, attributes: Readonly<Record<string, string | number | boolean>>): AttemptTrace
  end(route: string, status: number): void
}

export interface AttemptTrace {
  readonly traceparent: string
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
 * The tracer for `env`: spans batched (`OTEL_BSP_*`: delay, timeout, queue and batch sizes) to the OTLP/HTTP
 * endpoint (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + /v1/traces;
 * `OTEL_EXPORTER_OTLP_HEADERS`), under `OTEL_SERVICE_NAME` (default model-catalog-gateway).
 */
export async function startTracing(env: Env, version: string): Promise<Tracer> {
  const [api, { TracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, { W3CTraceContextPropagator }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ])
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || `${env.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/+$/, '')}/v1/traces`
  const headers = Object.fromEntries((env.OTEL_EXPORTER_OTLP_TRACES_HEADERS || env.OTEL_EXPORTER_OTLP_HEADERS || '').split(',').filter((p) => p.includes('=')).map((p) => {
    const at = p.indexOf('=')
    return [decodeURIComponent(p.slice(0, at).trim()), decodeURIComponent(p.slice(at + 1).trim())]
  }))
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'model-catalog-gateway', 'service.version': version }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url, headers }), ..._batching(env) })],
  })
  const tracer = provider.getTracer('model-catalog-gateway')
  const propagator = new W3CTraceContextPropagator()
  const getter = { get: (h: Headers, key: string) => h.get(key) ?? undefined, keys: (h: Headers) => [...h.keys()] }
  return {
    request(requestHeaders, method) {
      // Without a client's traceparent there is nothing to extract: the request is a root.
      const parent = requestHeaders.has('traceparent') ? propagator.extract(api.ROOT_CONTEXT, requestHeaders, getter) : api.ROOT_CONTEXT
      const span = tracer.startSpan(method, { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent)
      const inSpan = api.trace.setSpan(parent, span)
      return {
        attempt(name, attributes) {
          const child = tracer.startSpan(name, { kind: api.SpanKind.CLIENT, attributes }, inSpan)
          return _attempt(child, _traceparent(child.spanContext()), api.SpanStatusCode.ERROR)
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

// The batch processor's OTEL_BSP_* settings, where set.
function _batching(env: Env): Record<string, number> {
  const names = { scheduledDelayMillis: 'OTEL_BSP_SCHEDULE_DELAY', exportTimeoutMillis: 'OTEL_BSP_EXPORT_TIMEOUT', maxQueueSize: 'OTEL_BSP_MAX_QUEUE_SIZE', maxExportBatchSize: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' }
  return Object.fromEntries(Object.entries(names).flatMap(([option, name]) => (Number(env[name]) > 0 ? [[option, Number(env[name])]] : [])))
}

// The W3C traceparent of a span (what the propagator's inject writes, without building a context for it).
function _traceparent(s: SpanContext): string {
  return `00-${s.traceId}-${s.spanId}-${s.traceFlags < 16 ? '0' : ''}${s.traceFlags.toString(16)}`
}

function _attempt(span: Span, traceparent: string, errorCode: number): AttemptTrace {
  return {
    traceparent,
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
