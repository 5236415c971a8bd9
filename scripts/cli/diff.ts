type Entries = Readonly<Record<string, Readonly<Record<string, unknown>>>>

/** The parts of a catalog a diff compares, as written in models.yaml (no defaults applied). */
export interface RawCatalog {
  readonly providers?: Entries
  readonly models?: Entries
  readonly patterns?: readonly unknown[]
}

/**
 * A Markdown summary of what `after` changes against `before`, for a pull request: models
 * added, removed, promoted, deactivated or deprecated, then every other field change, old -> new.
 */
export function catalogDiff(before: RawCatalog, after: RawCatalog): string {
  const sections: string[] = []
  const list = (title: string, lines: string[]) => lines.length && sections.push(`**${title}** (${lines.length})\n${lines.map((l) => `- ${l}`).join('\n')}`)
  const rows: string[] = []
  const oldModels = _entries(before.models)
  const newModels = _entries(after.models)

  list('Added', _added(oldModels, newModels).map((id) => {
    const m = newModels[id]!
    const what = [m.provider, m.kind].filter((v) => typeof v === 'string').join(', ')
    return `\`${id}\`${what ? ` (${what})` : ''}${m.experimental === true ? ', experimental' : ''}`
  }))
  list('Removed', _added(newModels, oldModels).map((id) => `\`${id}\``))
  const promoted: string[] = []
  const experimental: string[] = []
  const deactivated: string[] = []
  const reactivated: string[] = []
  const deprecated: string[] = []
  const undeprecated: string[] = []
  for (const id of Object.keys(newModels).filter((id) => Object.hasOwn(oldModels, id))) {
    const [a, b] = [_flatten(oldModels[id]!), _flatten(newModels[id]!)]
    if (a.experimental === true && b.experimental !== true) promoted.push(`\`${id}\`: experimental -> production`)
    if (a.experimental !== true && b.experimental === true) experimental.push(`\`${id}\``)
    if (a.active !== false && b.active === false) deactivated.push(`\`${id}\``)
    if (a.active === false && b.active !== false) reactivated.push(`\`${id}\``)
    const schedule = (f: Record<string, unknown>) => JSON.stringify([f['deprecation.announced'], f['deprecation.sunset'], f['deprecation.replacement']])
    if (b['deprecation.sunset'] === undefined && a['deprecation.sunset'] !== undefined) undeprecated.push(`\`${id}\``)
    else if (b['deprecation.sunset'] !== undefined && schedule(a) !== schedule(b)) {
      const replacement = b['deprecation.replacement']
      deprecated.push(`\`${id}\`: sunset ${b['deprecation.sunset']}${replacement ? `, replacement \`${replacement}\`` : ''}`)
    }
    for (const field of _fields(a, b)) {
      if (field === 'experimental' || field === 'active' || field.startsWith('deprecation.')) continue
      rows.push(`| \`${id}\` | ${field} | ${_show(a[field])} | ${_show(b[field])} |`)
    }
  }
  list('Promoted', promoted)
  list('Made experimental', experimental)
  list('Deactivated', deactivated)
  list('Reactivated', reactivated)
  list('Deprecated', deprecated)
  list('No longer deprecated', undeprecated)
  const oldProviders = _entries(before.providers)
  const newProviders = _entries(after.providers)
  list('Providers added', _added(oldProviders, newProviders).map((id) => `\`${id}\``))
  list('Providers removed', _added(newProviders, oldProviders).map((id) => `\`${id}\``))
  for (const id of Object.keys(newProviders).filter((id) => Object.hasOwn(oldProviders, id))) {
    const [a, b] = [_flatten(oldProviders[id]!), _flatten(newProviders[id]!)]
    for (const field of _fields(a, b)) rows.push(`| provider \`${id}\` | ${field} | ${_show(a[field])} | ${_show(b[field])} |`)
  }
  if (rows.length) sections.push(`**Changed fields** (${rows.length})\n\n| Entry | Field | Before | After |\n| --- | --- | --- | --- |\n${rows.join('\n')}`)
  if (JSON.stringify(before.patterns ?? []) !== JSON.stringify(after.patterns ?? [])) {
    sections.push(`**Patterns changed** (${(before.patterns ?? []).length} rules -> ${(after.patterns ?? []).length} rules)`)
  }
  return `### Catalog changes\n\n${sections.length ? sections.join('\n\n') : 'No changes to providers, models or patterns.'}\n`
}

function _added(before: Entries, after: Entries): string[] {
  return Object.keys(after).filter((id) => !Object.hasOwn(before, id))
}

// Entries as maps; anything else (a section or entry that is not a map) counts as empty.
function _entries(section: unknown): Entries {
  if (!_isMap(section)) return {}
  return Object.fromEntries(Object.entries(section).map(([id, e]) => [id, _isMap(e) ? e : {}]))
}

function _isMap(v: unknown): v is Readonly<Record<string, unknown>> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function _flatten(entry: Readonly<Record<string, unknown>>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(entry)) {
    if (_isMap(value)) Object.assign(out, _flatten(value as Record<string, unknown>, `${prefix}${key}.`))
    else out[`${prefix}${key}`] = value
  }
  return out
}

function _fields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const all = [...new Set([...Object.keys(a), ...Object.keys(b)])]
  return all.filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]))
}

function _show(value: unknown): string {
  if (value === undefined) return '(unset)'
  if (Array.isArray(value)) return value.length ? value.map((v) => (_isMap(v) ? _map(v) : String(v))).join(', ').replaceAll('|', '\\|') : '(empty)'
  return String(value).replaceAll('|', '\\|')
}

// A map inside a list (a price tier) as models.yaml writes it: {above_input_tokens: 272000, input: 4}.
function _map(v: Readonly<Record<string, unknown>>): string {
  return `{${Object.entries(v).map(([k, x]) => `${k}: ${String(x)}`).join(', ')}}`
}
