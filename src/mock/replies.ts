import { createHash } from 'node:crypto'

/** Tokens as the mock counts them: runs of non-space characters. Same text, same count. */
export function countTokens(text: string): number {
  return text.match(/\S+/g)?.length ?? 0
}

/** A short stable id from the request body, so that the same request gets the same id. */
export function stableId(prefix: string, body: unknown): string {
  return `${prefix}-${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 24)}`
}

/** The text of an OpenAI or Anthropic message's content (string or parts). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .map((p: { type?: string; text?: string; content?: unknown }) => (p.type === 'text' || p.type === 'input_text' ? (p.text ?? '') : p.type === 'tool_result' ? textOf(p.content) : ''))
    .filter(Boolean)
    .join(' ')
}

/**
 * The mock's answer to `prompt`: it repeats what it was told, cut to `limit` tokens. The
 * reply's words are the stream's chunks, so a prompt of n words streams n + 3 content chunks.
 */
export function replyTo(prompt: string, limit?: number): { words: string[]; truncated: boolean } {
  const all = ['You', 'said:', ...(prompt.match(/\S+/g) ?? ['nothing'])].map((w, i) => (i ? ` ${w}` : w))
  const max = typeof limit === 'number' && limit > 0 ? limit : Infinity
  return { words: all.slice(0, max), truncated: all.length > max }
}

/** Tools the prompt names, in the order it names them: the mock calls those. */
export function toolsCalled(prompt: string, tools: readonly string[]): string[] {
  return tools.filter((t) => prompt.includes(t)).sort((a, b) => prompt.indexOf(a) - prompt.indexOf(b))
}

/** A deterministic unit-length embedding of `text` with `dimensions` components. */
export function embed(text: string, dimensions: number): number[] {
  const bytes: number[] = []
  for (let i = 0; bytes.length < dimensions; i++) bytes.push(...createHash('sha256').update(`${i}:${text}`).digest())
  const v = bytes.slice(0, dimensions).map((b) => b / 127.5 - 1)
  const norm = Math.hypot(...v) || 1
  return v.map((x) => Math.round((x / norm) * 1e6) / 1e6)
}

/** Relevance of `document` to `query`: the share of the query's words it contains. */
export function relevance(query: string, document: string): number {
  const words = new Set(query.toLowerCase().match(/\w+/g) ?? [])
  if (words.size === 0) return 0
  const doc = new Set(document.toLowerCase().match(/\w+/g) ?? [])
  return Math.round(([...words].filter((w) => doc.has(w)).length / words.size) * 1e4) / 1e4
}

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; enum?: unknown[]; const?: unknown; anyOf?: Schema[]; oneOf?: Schema[]; minimum?: number; maximum?: number; minItems?: number; default?: unknown }

/**
 * A value that validates against the JSON Schema `schema`, built deterministically: strings are
 * `text` (or the first enum value), numbers 1 (or the nearest bound), booleans true, arrays of
 * one item (or minItems), objects with every property. What tools are called with, and what a
 * structured answer holds.
 */
export function exampleOf(schema: Schema | undefined, text: string): unknown {
  if (!schema || typeof schema !== 'object') return {}
  if (schema.const !== undefined) return schema.const
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0]
  const variant = schema.anyOf?.[0] ?? schema.oneOf?.[0]
  if (variant) return exampleOf(variant, text)
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type
  switch (type ?? (schema.properties ? 'object' : 'string')) {
    case 'string': return text
    case 'integer': return Math.ceil(Math.min(Math.max(1, schema.minimum ?? 1), schema.maximum ?? Infinity))
    case 'number': return Math.min(Math.max(1, schema.minimum ?? 1), schema.maximum ?? Infinity)
    case 'boolean': return true
    case 'null': return null
    case 'array': return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => exampleOf(schema.items, text))
    default: return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, s]) => [key, exampleOf(s, text)]))
  }
}
