import type { Catalog } from '../../src/catalog/types.ts'
import type { Env } from '../../src/catalog/visibility.ts'
import { isCallable } from '../../src/catalog/visibility.ts'
import { listModels as listAnthropicModels } from '../../src/protocols/anthropic.ts'
import { listModels as listOpenAIModels } from '../../src/protocols/openai.ts'
import { resolveUpstreams } from '../../src/upstreams.ts'
import { Redactor } from '../../src/redact.ts'

/**
 * Asks each configured provider (or only `only`) which models it serves (with ofetch: a
 * control-plane call, retried) and compares with the catalog: callable models the provider no
 * longer serves are drift (`missing`); served models the catalog lacks are listed for review.
 */
export async function checkUpstream(catalog: Catalog, env: Env, now: Date, only?: string): Promise<{ lines: string[]; failed: boolean }> {
  let upstreams: ReturnType<typeof resolveUpstreams>
  try {
    upstreams = resolveUpstreams(catalog, env, {})
  } catch (error) {
    return { lines: [(error as Error).message], failed: true }
  }
  const lines: string[] = []
  let failed = false
  const ids = Object.keys(upstreams).filter((id) => !only || id === only)
  if (only && ids.length === 0) return { lines: [`no provider ${only} in the catalog (providers: ${Object.keys(upstreams).join(', ')})`], failed: true }
  for (const id of ids) {
    const up = upstreams[id]!
    if (up.provider.api_key_env && !up.key) {
      lines.push(`${id}: skipped (${up.provider.api_key_env} is not set)`)
      continue
    }
    let served: Set<string>
    try {
      served = new Set(await (up.provider.protocol === 'anthropic' ? listAnthropicModels(up) : listOpenAIModels(up)))
    } catch (error) {
      failed = true
      // fetch's own failures say only "fetch failed": the reason is in the cause.
      const cause = (error as { cause?: { cause?: { message?: string } } }).cause?.cause?.message
      lines.push(`${id}: could not list models at ${up.baseUrl}: ${new Redactor([up.key]).text(`${(error as Error).message}${cause ? ` (${cause})` : ''}`)}`)
      continue
    }
    const expected = new Set(Object.values(catalog.models).filter((m) => m.provider === id && isCallable(m, now)).map((m) => m.upstream_id))
    const missing = [...expected].filter((m) => !served.has(m)).sort()
    const extra = [...served].filter((m) => !expected.has(m)).sort()
    failed ||= missing.length > 0
    lines.push(`${id}: ${served.size} served, ${expected.size} in the catalog, ${missing.length} missing upstream, ${extra.length} not in the catalog`)
    for (const m of missing) lines.push(`  missing upstream (remove or deprecate it): ${m}`)
    for (const m of extra) lines.push(`  not in the catalog: ${m}`)
  }
  return { lines, failed }
}
