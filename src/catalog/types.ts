import type { Capability, Effort, ModelEntry, PatternEntry, ProviderEntry, WeightedAlias } from './schema.generated.ts'

export type * from './schema.generated.ts'

/** A provider as compiled: its id attached and its timeouts resolved to their defaults. */
export interface Provider extends ProviderEntry {
  readonly id: string
  readonly timeout_ms: number
  readonly stream_idle_timeout_ms: number
}

/**
 * A model as compiled: its id attached and defaults resolved (`upstream_id` = id, `owned_by` =
 * provider, empty lists, `active`, not `experimental`; `token_limit_param` for text models).
 */
export interface Model extends ModelEntry {
  readonly id: string
  readonly upstream_id: string
  readonly owned_by: string
  readonly aliases: readonly string[]
  readonly capabilities: readonly Capability[]
  readonly efforts: readonly Effort[]
  readonly experimental: boolean
  readonly active: boolean
  /** For an id the catalog does not list, the `match` of the pattern that made it. */
  readonly pattern?: string
  /** For an id a `like` pattern made (a dated snapshot), the id of the listed model it behaves as. */
  readonly like?: string
}

/** The compiled catalog: what `npm run build:catalog` freezes into catalog.generated.ts. */
export interface Catalog {
  /** Content hash of the compiled catalog: the catalog version and the base of ETags. */
  readonly version: string
  readonly providers: { readonly [id: string]: Provider }
  readonly models: { readonly [id: string]: Model }
  /** Alias -> model id. */
  readonly aliases: { readonly [alias: string]: string }
  readonly patterns: readonly PatternEntry[]
  /** Name -> the models it splits traffic between, by weight (A/B). */
  readonly weighted_aliases: { readonly [name: string]: WeightedAlias }
}
