import type { Api, Model } from '../catalog/types.ts'
import type { Feed } from '../feed.ts'
import type { Signal } from '../transport/client.ts'
import type { SseEvent } from './sse.ts'

/** One call of a model, in OpenAI's dialect, after the catalog's rules. */
export interface Exchange {
  readonly model: Model
  /** The id the chosen deployment knows the model by. */
  readonly upstreamId: string
  readonly api: Api
  /** The request body as the client sent it, rules applied (`model` still the client's name). */
  readonly body: Record<string, unknown>
  readonly stream: boolean
  /** Whether the client asked for the usage chunk (`stream_options.include_usage`). */
  readonly includeUsage: boolean
  /** Aborts when the client goes away. */
  readonly signal: Signal
  /** What to do with a parameter the upstream cannot take (UNSUPPORTED_PARAMS). */
  readonly unsupported: 'drop' | 'reject'
  /** Hears each retry on the same upstream, for the stats. */
  readonly onRetry?: () => void
  /** Hears the upstream's answer arrive (its headers), for the latency figures. */
  readonly onHeaders?: () => void
  /** The W3C `traceparent` (and `tracestate`) of the attempt's span, sent to the upstream (tracing on). */
  readonly traceHeaders?: Readonly<Record<string, string>>
  /**
   * The request as an Anthropic client sent it (Messages API), for an `anthropic` provider to
   * receive untranslated, with the catalog's rules applied (what `dropped` names, removed), and
   * the `anthropic-version`/`anthropic-beta` headers it came with. Other providers get `body`.
   */
  readonly native?: { readonly body: Record<string, unknown>; readonly headers: Readonly<Record<string, string>>; readonly dropped: readonly string[] }
}

/**
 * What an adapter answers, in OpenAI's dialect (or, for a `native` request an `anthropic`
 * provider served, in Anthropic's: `format`): a JSON body, or a stream of SSE events in batches
 * (the events of one upstream chunk travel on together, in one write to the client).
 */
export type Outcome = (
  | { readonly kind: 'json'; readonly text: string; readonly json: Record<string, unknown> }
  /** OpenAI chat events in batches (the hub shape); an OpenAI upstream's come as it sent them, untouched regions `raw`. */
  | {
    readonly kind: 'stream'
    readonly batches: AsyncGenerator<SseEvent[]>
    /** The same stream pushed (an OpenAI upstream's, passed through): read this or `batches`, never both. */
    readonly feed?: Feed<SseEvent[]>
  }
) & {
  /** Request parameters the adapter could not carry over (named in x-gateway-dropped-params). */
  readonly dropped?: readonly string[]
  /** `anthropic`: the Messages API's message or events, as the upstream sent them. Default: OpenAI's. */
  readonly format?: 'anthropic'
}
