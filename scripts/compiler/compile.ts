import { createHash } from 'node:crypto'
import { resolveModel } from '../../src/catalog/model.ts'
import type { Catalog, CatalogFile, Model, Provider } from '../../src/catalog/types.ts'
import { ruleIssues } from './rules.ts'
import { schemaIssues } from './schema.ts'
import { warningIssues } from './warnings.ts'
import { parseSource, position } from './source.ts'
import type { DataPath, Issue, Source } from './source.ts'

/** One build error, pointing at the line and column of models.yaml it is about. */
export interface CatalogError {
  readonly file: string
  readonly line: number
  readonly col: number
  /** The model id, provider id or `patterns[N]` the error is about (`yaml` for syntax). */
  readonly subject: string
  readonly message: string
}

export type CompileResult =
  | { readonly ok: true; readonly catalog: Catalog; readonly errors: readonly []; readonly warnings: readonly CatalogError[] }
  | { readonly ok: false; readonly catalog?: undefined; readonly errors: readonly CatalogError[] }

// Provider timeout defaults, as documented in the schema: the official SDKs wait 10 minutes
// (reasoning models may think that long); a stream silent for 2 minutes is hung.
const DEFAULT_TIMEOUT_MS = 600_000
const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 120_000

const SECTIONS: ReadonlySet<string> = new Set(['providers', 'models', 'patterns', 'weighted_aliases'])

/**
 * Compiles catalog YAML: parse (YAML 1.2 core, hazards), validate (schema, then cross-field
 * rules), resolve defaults and hash. Returns every error at once, sorted by position.
 */
export function compileCatalog(text: string, file = 'models.yaml', now = new Date()): CompileResult {
  const source = parseSource(text)
  let issues = source.issues
  if (issues.length === 0) {
    issues = schemaIssues(source.data)
    // Rules run on the entries the schema passed, so that one run reports everything it can;
    // only a malformed providers, models or patterns section stops them.
    if (!issues.some((i) => i.path.length === 0 || (i.path.length === 1 && SECTIONS.has(String(i.path[0]))))) {
      issues = [...issues, ...ruleIssues(source.data as CatalogFile, new Set(issues.map((i) => `${i.path[0]}/${i.path[1]}`)), now)]
    }
  }
  if (issues.length > 0) return { ok: false, errors: located(source, file, issues) }
  const data = source.data as CatalogFile
  return { ok: true, catalog: _resolve(data), errors: [], warnings: located(source, file, warningIssues(data, now)) }
}

/** Issues of a parsed file as errors at their line and column, in file order. */
export function located(source: Source, file: string, issues: readonly Issue[]): CatalogError[] {
  return issues.map((issue) => ({ file, ...position(source, issue), subject: _subject(issue.path), message: issue.message })).sort((a, b) => a.line - b.line || a.col - b.col)
}

/** `models.yaml:88:5: gpt-4.1-nano: max_output (40000) exceeds context_window (32000)` */
export function formatError(e: CatalogError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.subject}: ${e.message}`
}

/**
 * The lines to print for a failed build (or, as `warning`, for what a valid catalog should look
 * at): each item and a count on stderr, and with `annotate` (under GitHub Actions) `::error` or
 * `::warning` annotations on stdout, shown on the PR's diff.
 */
export function issueReport(file: string, errors: readonly CatalogError[], annotate: boolean, level: 'error' | 'warning' = 'error'): { stderr: string[]; stdout: string[] } {
  const escape = (s: string) => s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
  const property = (s: string) => escape(s).replaceAll(':', '%3A').replaceAll(',', '%2C')
  const prefix = level === 'warning' ? 'warning: ' : ''
  return {
    stderr: [...errors.map((e) => prefix + formatError(e)), `${file}: ${errors.length} ${level}${errors.length === 1 ? '' : 's'}`],
    stdout: annotate ? errors.map((e) => `::${level} file=${property(e.file)},line=${e.line},col=${e.col}::${escape(`${e.subject}: ${e.message}`)}`) : [],
  }
}

function _subject(path: DataPath): string {
  if (path[0] === 'patterns' && path.length > 1) return `patterns[${path[1]}]`
  if ((path[0] === 'models' || path[0] === 'providers' || path[0] === 'teams' || path[0] === 'weighted_aliases') && path.length > 1) return String(path[1])
  return path.length ? String(path[0]) : 'yaml'
}

function _resolve(file: CatalogFile): Catalog {
  const providers: Record<string, Provider> = {}
  for (const [id, p] of Object.entries(file.providers)) {
    providers[id] = {
      id,
      ...p,
      timeout_ms: p.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      stream_idle_timeout_ms: p.stream_idle_timeout_ms ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS,
    }
  }
  const models: Record<string, Model> = {}
  const aliases: Record<string, string> = {}
  for (const [id, m] of Object.entries(file.models)) {
    models[id] = resolveModel(id, m)
    for (const alias of m.aliases ?? []) aliases[alias] = id
  }
  const body = { providers, models, aliases, patterns: file.patterns ?? [], weighted_aliases: file.weighted_aliases ?? {} }
  const version = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16)
  return { version, ...body }
}
