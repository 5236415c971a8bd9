import type { TeamEntry } from './teams-schema.generated.ts'

export type * from './teams-schema.generated.ts'

/** Requests and tokens per minute; either may be absent (unlimited). */
export interface Rates {
  readonly rpm?: number
  readonly tpm?: number
}

/**
 * A team as compiled: its id attached, model references resolved (ids and aliases to catalog
 * ids; globs kept as globs), limits per catalog id, and `experimental` defaulted.
 */
export interface Team extends Omit<TeamEntry, 'models' | 'limits' | 'experimental'> {
  readonly id: string
  /** Catalog ids the team may call; absent with `globs`: every model. */
  readonly models?: readonly string[]
  /** Globs over model ids (`claude-*`) the team may call. */
  readonly globs?: readonly string[]
  readonly experimental: boolean
  readonly limits: Rates & { readonly models: { readonly [modelId: string]: Rates } }
}

/** The compiled access policy: what `npm run build:catalog` freezes into teams.generated.ts. */
export interface Policy {
  /** Content hash of the compiled policy. */
  readonly version: string
  readonly teams: { readonly [id: string]: Team }
}
