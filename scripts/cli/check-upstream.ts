import { findModel } from '../../src/catalog/lookup.ts'
import type { Catalog, Model } from '../../src/catalog/types.ts'
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

/** What the check found: the lines to print, the drift `--fix` can write, and how many other problems (which it cannot). */
export interface UpstreamCheck {
  readonly lines: string[]
  readonly drift: Drift[]
  readonly problems: number
}

/**
 * Asks each configured provider (or only `only`) which models it serves and which shutdown dates
 * it announces (with ofetch: a control-plane call, retried) and compares with the catalog:
 * callable models the provider no longer serves are problems (`missing`); an announced shutdown
 * the catalog lacks or contradicts is drift, for an active model the catalog lists (by id,
 * upstream id or alias), or a note for a dated snapshot that a pattern routes like a listed model;
 * served models the catalog does not know are listed for review. Inactive models are left alone.
 */
export async function checkUpstream(catalog: Catalog, env: Env, now: Date, only?: string): Promise<UpstreamCheck> {
  let upstreams: ReturnType<typeof resolveUpstreams>
  try {
    upstreams = resolveUpstreams(catalog, env, {})
  } catch (error) {
    return { lines: [(error as Error).message], drift: [], problems: 1 }
  }
  const lines: string[] = []
  const drift: Drift[] = []
  let problems = 0
  const ids = Object.keys(upstreams).filter((id) => !only || id === only)
  if (only && ids.length === 0) return { lines: [`no provider ${only} in the catalog (providers: ${Object.keys(upstreams).join(', ')})`], drift, problems: 1 }
  for (const id of ids) {
    const up = upstreams[id]!
    if (up.provider.api_key_env && !up.key) {
      lines.push(`${id}: skipped (${up.provider.api_key_env} is not set)`)
      continue
    }
    let served: ServedModel[]
    try {
      served = await (up.provider.protocol === 'anthropic' ? listAnthropicModels(up) : listOpenAIModels(up))
    } catch (error) {
      problems++
      // fetch's own failures say only "fetch failed": the reason is in the cause.
      const cause = (error as { cause?: { cause?: { message?: string } } }).cause?.cause?.message
      lines.push(`${id}: could not list models at ${up.baseUrl}: ${new Redactor([up.key]).text(`${(error as Error).message}${cause ? ` (${cause})` : ''}`)}`)
      continue
    }
    const own = Object.values(catalog.models).filter((m) => m.provider === id)
    // Several catalog models may share one upstream id (a preview beside its model): each is checked.
    const byUpstreamId = new Map<string, Model[]>()
    for (const m of own) byUpstreamId.set(m.upstream_id, [...(byUpstreamId.get(m.upstream_id) ?? []), m])
    const servedIds = new Set(served.map((s) => s.id))
    const expected = new Set(own.filter((m) => isCallable(m, now)).map((m) => m.upstream_id))
    const missing = [...expected].filter((m) => !servedIds.has(m)).sort()
    const extra: string[] = []
    const found: Drift[] = []
    const notes: string[] = []
    for (const s of served) {
      const direct = byUpstreamId.get(s.id)?.map((model) => ({ model, snapshot: false }))
      const known = direct ?? [_known(catalog, s.id, id)].filter((k) => k !== undefined)
      if (!known.length) extra.push(s.id)
      for (const { model, snapshot } of known) {
        const sunset = model.deprecation?.sunset
        if (!model.active || s.shutdown === undefined || s.shutdown === sunset) continue
        if (s.shutdown === null) {
          if (sunset && isCallable(model, now) && !snapshot) notes.push(`  note: ${model.id}: the catalog retires it on ${sunset}; ${up.provider.name} announces no shutdown yet`)
        } else if (snapshot) {
          notes.push(`  note: ${s.id} (routed like ${model.id}): ${up.provider.name} announces shutdown on ${s.shutdown}; the catalog gives it ${sunset ?? 'none'}: list the snapshot in the catalog to give it its own date`)
        } else if (!found.some((d) => d.model === model.id)) {
          found.push({ model: model.id, announced: s.shutdown, ...(sunset && { catalog: sunset }) })
        }
      }
    }
    extra.sort()
    drift.push(...found)
    problems += missing.length
    lines.push(`${id}: ${served.length} served, ${expected.size} in the catalog, ${missing.length} missing upstream, ${extra.length} not in the catalog, ${found.length} with lifecycle drift`)
    for (const m of missing) lines.push(`  missing upstream (remove or deprecate it): ${m}`)
    for (const m of extra) lines.push(`  not in the catalog: ${m}`)
    for (const d of found) {
      const says = d.catalog ? `the catalog says ${d.catalog}` : 'the catalog has no shutdown date'
      lines.push(`  lifecycle drift: ${d.model}: ${up.provider.name} announces shutdown on ${d.announced}; ${says}. Fix: npm run catalog -- deprecate ${d.model} --sunset ${d.announced} (or check-upstream --fix)`)
    }
    lines.push(...notes)
  }
  return { lines, drift, problems }
}

// A served id the catalog knows by another name: an alias of one of this provider's models, or a
// dated snapshot that a `like` pattern routes as one of them (its dates are that model's).
function _known(catalog: Catalog, servedId: string, provider: string): { model: Model; snapshot: boolean } | undefined {
  const found = findModel(catalog, servedId)
  if (!found || found.model.provider !== provider) return undefined
  if (found.via === 'alias') return { model: found.model, snapshot: false }
  return found.model.like ? { model: catalog.models[found.model.like]!, snapshot: true } : undefined
}
