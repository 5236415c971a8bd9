import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml'
import type { Document, Node } from 'yaml'

/** A path into the catalog data: map keys and sequence indexes. */
export type DataPath = readonly (string | number)[]

/** A problem found in the catalog, before it is given a line and column. */
export interface Issue {
  readonly path: DataPath
  readonly message: string
  /** Source offset, when known better than the path (YAML syntax errors, hazards). */
  readonly offset?: number
}

/** A parsed catalog file: its plain data and what is needed to point back into the text. */
export interface Source {
  readonly data: unknown
  readonly doc: Document
  readonly lines: LineCounter
  readonly issues: Issue[]
}

// Anchors may share a value or two; more alias expansions than this is an alias bomb.
const MAX_ALIAS_COUNT = 50

/**
 * Parses catalog YAML as YAML 1.2 core (even under a `%YAML 1.1` directive: `no` stays a
 * string, so it fails the schema instead of silently becoming `false`), with unique keys, no
 * merge keys and a small alias limit. Parse errors and YAML 1.1 hazards come back as issues.
 */
export function parseSource(text: string): Source {
  const lines = new LineCounter()
  const doc = parseDocument(text, {
    version: '1.2',
    schema: 'core',
    merge: false,
    uniqueKeys: true,
    strict: true,
    prettyErrors: false,
    lineCounter: lines,
    // A collection used as a key is reported below, with its line; not as a process warning.
    logLevel: 'error',
  })
  const issues: Issue[] = []
  for (const e of [...doc.errors, ...doc.warnings]) {
    const duplicate = e.code === 'DUPLICATE_KEY' ? _keyAt(doc.contents, e.pos[0], []) : undefined
    issues.push(
      duplicate
        ? { path: duplicate, offset: e.pos[0], message: `duplicate key ${duplicate.at(-1)} (a key may appear only once in a map)` }
        : { path: [], offset: e.pos[0], message: `YAML: ${e.message.split('\n')[0]}` },
    )
  }
  let data: unknown = null
  if (doc.errors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (error) {
      const alias = _firstAlias(doc.contents)
      issues.push({ path: [], offset: alias?.range?.[0] ?? 0, message: `too many alias expansions (the limit is ${MAX_ALIAS_COUNT}): ${(error as Error).message}` })
    }
    if (issues.length === 0) _findHazards(doc.contents, [], issues)
  }
  return { data, doc, lines, issues }
}

/** The line and column (1-based) that `issue` points at: the key of the field it names. */
export function position(source: Source, issue: Issue): { line: number; col: number } {
  const offset = issue.offset ?? _offsetOf(source.doc.contents, issue.path)
  return source.lines.linePos(offset)
}

function _offsetOf(root: unknown, path: DataPath): number {
  let node = root
  let offset = (root as Node | null)?.range?.[0] ?? 0
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment))
      if (!pair) break
      offset = (pair.key as Node).range?.[0] ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment]
      if (!item) break
      offset = (item as Node).range?.[0] ?? offset
      node = item
    } else break
  }
  return offset
}

// The path to the map key that starts at `offset` (where yaml reports a duplicate key).
function _keyAt(node: unknown, offset: number, path: (string | number)[]): (string | number)[] | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      if ((pair.key as Node | null)?.range?.[0] === offset) return [...path, key]
      const found = _keyAt(pair.value, offset, [...path, key])
      if (found) return found
    }
  }
  if (isSeq(node)) for (const [i, item] of node.items.entries()) { const found = _keyAt(item, offset, [...path, i]); if (found) return found }
  return undefined
}

function _firstAlias(node: unknown): Node | undefined {
  if (isAlias(node)) return node
  if (isMap(node)) for (const p of node.items) { const a = _firstAlias(p.value); if (a) return a }
  if (isSeq(node)) for (const i of node.items) { const a = _firstAlias(i); if (a) return a }
  return undefined
}

// Plain scalars that YAML 1.1 tools (PyYAML, older editors) read differently than YAML 1.2:
// booleans like `no`/`on`, leading-zero octals like `0777`, `1e3` (a string in 1.1), and
// sexagesimal numbers like `1:30`. Quote them or write them unambiguously.
const HAZARDS: readonly [RegExp, string][] = [
  [/^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/, 'is a boolean in YAML 1.1 but a string in YAML 1.2: write true/false, or quote it if you mean the text'],
  [/^[-+]?0[0-9_]+$/, 'has a leading zero (octal in YAML 1.1, decimal in YAML 1.2): drop the zero, or quote it'],
  [/^[-+]?[0-9][0-9_]*(\.[0-9]*)?[eE][-+]?[0-9]+$/, 'uses exponent notation (YAML 1.1 reads 1e3 as a string): write the number out in digits'],
  [/^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/, 'is a base-60 number in YAML 1.1: quote it'],
]

function _findHazards(node: unknown, path: (string | number)[], issues: Issue[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue
      if (!isScalar(pair.key) || typeof pair.key.value !== 'string') {
        // `0x10:` would silently become the id "16", `~:` an empty one: keys are written as strings.
        const offset = (pair.key as Node | null)?.range?.[0] ?? (pair.value as Node | null)?.range?.[0]
        if (isMap(pair.key) || isSeq(pair.key)) {
          issues.push({ path, offset, message: `a ${isMap(pair.key) ? 'map' : 'list'} is used as a key: keys are ids, written as strings` })
          continue
        }
        const source = (isScalar(pair.key) && pair.key.source) || String(pair.key ?? '~')
        issues.push({ path, offset, message: `key ${source} is not a string: quote it ("${source}")` })
        continue
      }
      const key = pair.key.value
      if (key === '<<' && pair.key.type === 'PLAIN') {
        issues.push({ path, offset: pair.key.range?.[0], message: 'merge keys (<<) are not supported: write the fields out' })
        continue
      }
      _checkScalar(pair.key, [...path, key], issues)
      _findHazards(pair.value, [...path, key], issues)
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => _findHazards(item, [...path, i], issues))
  } else if (isScalar(node)) {
    _checkScalar(node, path, issues)
  }
}

function _checkScalar(node: Node, path: (string | number)[], issues: Issue[]): void {
  if (!isScalar(node) || node.type !== 'PLAIN' || !node.source) return
  const text = node.source
  for (const [re, why] of HAZARDS) {
    if (re.test(text)) issues.push({ path, offset: node.range?.[0], message: `${text} ${why}` })
  }
}
