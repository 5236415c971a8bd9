import type { Model, ModelEntry } from './types.ts'

/** Kinds that generate text: they have output limits, temperatures, efforts and a token-limit parameter. */
export const TEXT_KINDS: ReadonlySet<string> = new Set(['chat', 'reasoning', 'completion'])

/**
 * A model entry with its defaults resolved: `upstream_id` = id, `owned_by` = provider, empty
 * lists, active, not experimental, and for text models `token_limit_param` from the kind
 * (`max_completion_tokens` for reasoning models, else `max_tokens`).
 */
export function resolveModel(id: string, entry: ModelEntry): Model {
  return {
    id,
    ...entry,
    upstream_id: entry.upstream_id ?? id,
    owned_by: entry.owned_by ?? entry.provider,
    aliases: entry.aliases ?? [],
    capabilities: entry.capabilities ?? [],
    efforts: entry.efforts ?? [],
    experimental: entry.experimental ?? false,
    active: entry.active ?? true,
    ...(TEXT_KINDS.has(entry.kind) && {
      token_limit_param: entry.token_limit_param ?? (entry.kind === 'reasoning' ? 'max_completion_tokens' : 'max_tokens'),
    }),
  }
}
