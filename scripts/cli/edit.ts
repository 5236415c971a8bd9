import { readFileSync, writeFileSync } from 'node:fs'
import { isMap, isSeq, parseDocument } from 'yaml'
import type { Document, YAMLMap } from 'yaml'
import type { Catalog } from '../../src/catalog/types.ts'
import { compileCatalog, formatError } from '../compiler/compile.ts'
import { compileTeams } from '../compiler/teams.ts'

/** A failed CLI step: `code` 1 for a catalog problem, 2 for a usage mistake. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: 1 | 2,
  ) {
    super(message)
  }
}

// Printing options that reproduce models.yaml's own layout byte for byte (flow lists and maps
// without inner padding, no line folding), so that an edit changes only what it touches.
const PRINT = { lineWidth: 0, flowCollectionPadding: false } as const

/**
 * Edits the catalog file through `change`, which returns a summary line, and writes the result
 * only if it compiles. Comments, key order and formatting of untouched entries survive.
 */
export function editCatalog(path: string, file: string, now: Date, change: (doc: Document, models: YAMLMap) => string): string {
  const text = readFileSync(path, 'utf8')
  const doc = parseDocument(text, { version: '1.2', schema: 'core', merge: false, uniqueKeys: true })
  const models = doc.get('models', true)
  if (doc.errors.length || !isMap(models)) throw new CliError(`${file} does not parse as a catalog: run npm run catalog -- validate`, 1)
  const summary = change(doc, models)
  const next = doc.toString(PRINT)
  const result = compileCatalog(next, file, now)
  if (!result.ok) {
    throw new CliError([...result.errors.map(formatError), `${file}: not written (the edit would leave ${result.errors.length} error${result.errors.length === 1 ? '' : 's'})`].join('\n'), 1)
  }
  writeFileSync(path, next)
  return summary
}

/** The model entry `id`, or a CliError naming the file. */
export function modelNode(models: YAMLMap, id: string, file: string): YAMLMap {
  const node = models.get(id, true)
  if (!isMap(node)) throw new CliError(`${id}: no such model in ${file}`, 1)
  return node
}

/** Adds model `id` with `fields` (in schema order) at the end of `models`, lists and maps inline. */
export function addModel(doc: Document, models: YAMLMap, id: string, fields: Record<string, unknown>): void {
  const value = doc.createNode(fields) as YAMLMap
  for (const pair of value.items) if (isSeq(pair.value) || isMap(pair.value)) pair.value.flow = true
  const key = doc.createNode(id)
  key.spaceBefore = true
  models.add(doc.createPair(key, value))
}

/**
 * A model's deprecation with a new sunset: the announcement and replacement it had are kept
 * unless `given` (an announcement on or after the new sunset is dropped), else `announced`.
 */
export function newDeprecation(model: YAMLMap, sunset: string, given: { announced?: string; replacement?: string } = {}, announcedElse?: string) {
  const old = (model.toJSON() as { deprecation?: { announced?: string; replacement?: string } }).deprecation ?? {}
  const kept = old.announced !== undefined && old.announced < sunset ? old.announced : undefined
  const announced = given.announced ?? kept ?? announcedElse
  const replacement = given.replacement ?? old.replacement
  return { ...(announced && { announced }), sunset, ...(replacement && { replacement }) }
}

/** Sets `field` of a model entry to an inline value, keeping its place and its line's comment if it exists. */
export function setField(doc: Document, model: YAMLMap, field: string, value: unknown): void {
  const node = doc.createNode(value)
  if (isMap(node) || isSeq(node)) node.flow = true
  const old = model.get(field, true) as { comment?: string | null } | undefined
  if (old?.comment) node.comment = old.comment
  model.set(field, node)
}

/** Adds `hash` to the keys of `team` in the teams file at `path`, keeping its comments; written only if it still compiles against `catalog`. */
export function addTeamKey(path: string, file: string, catalog: Catalog, team: string, hash: string): void {
  const doc = parseDocument(readFileSync(path, 'utf8'), { version: '1.2', schema: 'core', merge: false, uniqueKeys: true })
  if (doc.errors.length) throw new CliError(`${file} does not parse: run npm run catalog -- validate`, 1)
  const node = doc.getIn(['teams', team], true)
  if (!isMap(node)) throw new CliError(`${team}: no such team in ${file}; add it (with its models and limits) first`, 1)
  const keys = node.get('keys_sha256', true)
  if (isSeq(keys)) keys.add(doc.createNode(hash))
  else setField(doc, node, 'keys_sha256', [hash])
  const next = doc.toString(PRINT)
  const result = compileTeams(next, catalog, file)
  if (!result.ok) throw new CliError([...result.errors.map(formatError), `${file}: not written (the edit would leave ${result.errors.length} error${result.errors.length === 1 ? '' : 's'})`].join('\n'), 1)
  writeFileSync(path, next)
}
