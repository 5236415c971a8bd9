import type { Catalog } from '../../src/catalog/types.ts'
import type { Env } from '../../src/catalog/visibility.ts'
import { isCallable } from '../../src/catalog/visibility.ts'
import { listModels as listAnthropicModels } from '../../src/protocols/anthropic.ts'
import { listModels as listOpenAIModels } from '../../src/protocols/openai.ts'
import type { ServedModel } from '../../src/protocols/served.ts'
import { resolveUpstreams } from '../../src/upstreams.ts'
import { Redactor } from '../../src/redact.ts'

/** A shutdown date a provider announces that the catalog lacks (`catalog` absent) or contradicts. */
export interface Drift {
  readonly model: string
  readonly announced: string
  readonly catalog?: string
}

/** What the check found: the lines to print, whether it failed, and the drift `--fix` can apply. */
export interface UpstreamCheck {
  readonly lines: string[]
  readonly failed: boolean
  readonly drift: Drift[]
}

/**
 * Asks each configured provider (or only `only`) which models it serves and which shutdown dates
 * it announces (with ofetch: a control-plane call, retried) and compares with the catalog:
 * callable models the provider no longer serves are drift (`missing`), and so is every announced
 * shutdown the catalog lacks or contradicts; served models the catalog lacks are listed for review.
 */
export async function checkUpstream(catalog: Catalog, env: Env, now: Date, only?: string): Promise<UpstreamCheck> {
  let upstreams: ReturnType<typeof resolveUpstreams>
  try {
    upstreams = resolveUpstreams(catalog, env, {})
  } catch (error) {
    return { lines: [(error as Error).message], failed: true, drift: [] }
  }
  const lines: string[] = []
  const drift: Drift[] = []
  let failed = false
  const ids = Object.keys(upstreams).filter((id) => !only || id === only)
  if (only && ids.length === 0) return { lines: [`no provider ${only} in the catalog (providers: ${Object.keys(upstreams).join(', ')})`], failed: true, drift }
  for (const id of ids) {
    const up = upstreams[id]!
    if (up.provider.api_key_env && !up.key) {
      lines.push(`${id}: skipped (${up.provider.api_key_env} is not set)`)
      continue
    }
    let served: Map<string, ServedModel>
    try {
      const list = await (up.provider.protocol === 'anthropic' ? listAnthropicModels(up) : listOpenAIModels(up))
      served = new Map(list.map((m) => [m.id, m]))
    } catch (error) {
      failed = true
      // fetch's own failures say only "fetch failed": the reason is in the cause.
      const cause = (error as { cause?: { cause?: { message?: string } } }).cause?.cause?.message
      lines.push(`${id}: could not list models at ${up.baseUrl}: ${new Redactor([up.key]).text(`${(error as Error).message}${cause ? ` (${cause})` : ''}`)}`)
      continue
    }
    const own = Object.values(catalog.models).filter((m) => m.provider === id)
    const expected = new Set(own.filter((m) => isCallable(m, now)).map((m) => m.upstream_id))
    const missing = [...expected].filter((m) => !served.has(m)).sort()
    const extra = [...served.keys()].filter((m) => !own.some((o) => o.upstream_id === m)).sort()
    const found: Drift[] = []
    const notes: string[] = []
    for (const m of own) {
      const announced = served.get(m.upstream_id)?.shutdown
      const sunset = m.deprecation?.sunset
      if (announced && announced !== sunset) found.push({ model: m.id, announced, ...(sunset && { catalog: sunset }) })
      else if (announced === null && sunset && isCallable(m, now)) notes.push(`  note: ${m.id}: the catalog retires it on ${sunset}; ${up.provider.name} announces no shutdown yet`)
    }
    drift.push(...found)
    failed ||= missing.length > 0 || found.length > 0
    lines.push(`${id}: ${served.size} served, ${expected.size} in the catalog, ${missing.length} missing upstream, ${extra.length} not in the catalog, ${found.length} with lifecycle drift`)
    for (const m of missing) lines.push(`  missing upstream (remove or deprecate it): ${m}`)
    for (const m of extra) lines.push(`  not in the catalog: ${m}`)
    for (const d of found) {
      const says = d.catalog ? `the catalog says ${d.catalog}` : 'the catalog has no shutdown date'
      lines.push(`  lifecycle drift: ${d.model}: ${up.provider.name} announces shutdown on ${d.announced}; ${says}. Fix: npm run catalog -- deprecate ${d.model} --sunset ${d.announced} (or check-upstream --fix)`)
    }
    lines.push(...notes)
  }
  return { lines, failed, drift }
}
