// `npm run test:reliability` (first part): the load, soak and fault scenarios, one after the
// other against the shipped server in its own process and the mock upstream in this one. Each
// prints a line of figures as it ends; a table closes the run; the exit code is 1 if any
// scenario failed. RELIABILITY_QUICK=1 shortens the long ones (for working on the suite).
import { mb, startMock } from './harness.ts'
import type { Figures, Scenario } from './harness.ts'
import { abuseUnderLoad } from './scenarios/abuse-under-load.ts'
import { cancellationStorm } from './scenarios/cancellation-storm.ts'
import { errorStorm, fallbackStorm } from './scenarios/error-storm.ts'
import { gracefulShutdown } from './scenarios/graceful-shutdown.ts'
import { slowReader } from './scenarios/slow-reader.ts'
import { staleKeepAlive } from './scenarios/stale-keep-alive.ts'
import { streamingLoad } from './scenarios/streaming-load.ts'

const SCENARIOS: Record<string, Scenario> = {
  'streaming-load': streamingLoad,
  'cancellation-storm': cancellationStorm,
  'error-storm': errorStorm,
  'fallback-storm': fallbackStorm,
  'stale-keep-alive': staleKeepAlive,
  'slow-reader': slowReader,
  'graceful-shutdown': gracefulShutdown,
  'abuse-under-load': abuseUnderLoad,
}

const quick = process.env.RELIABILITY_QUICK === '1'
// `npm run test:reliability -- slow-reader error-storm` runs only those.
const only = process.argv.slice(2)
for (const name of only) if (!Object.hasOwn(SCENARIOS, name)) throw new Error(`no scenario '${name}' (have: ${Object.keys(SCENARIOS).join(', ')})`)

const rows: Figures[] = []
for (const [name, scenario] of Object.entries(SCENARIOS)) {
  if (only.length && !only.includes(name)) continue
  const mock = await startMock()
  const started = performance.now()
  let f: Figures
  try {
    f = await scenario({ mock, quick })
  } catch (error) {
    f = { scenario: name, sent: 0, completed: 0, aborted: 0, lost: 0, upstreamOpen: 0, heapBefore: 0, heapAfter: 0, rssBefore: 0, rssAfter: 0, closeWait: 0, detail: '', failures: [`crashed: ${(error as Error).stack}`] }
  }
  await mock.close()
  if (f.lost) f.failures.push(`${f.lost} request(s) lost or garbled`)
  if (f.upstreamOpen) f.failures.push(`${f.upstreamOpen} upstream request(s) still open`)
  if (f.closeWait) f.failures.push(`${f.closeWait} socket(s) in CLOSE_WAIT`)
  rows.push(f)
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  console.log(`${f.failures.length ? 'FAIL' : 'ok  '} ${f.scenario} (${seconds} s): sent ${f.sent}, completed ${f.completed}, aborted ${f.aborted}, lost ${f.lost}, upstream open ${f.upstreamOpen}, heap ${mb(f.heapBefore)} -> ${mb(f.heapAfter)} MB, RSS ${mb(f.rssBefore)} -> ${mb(f.rssAfter)} MB, CLOSE_WAIT ${f.closeWait}; ${f.detail}`)
  for (const failure of f.failures) console.log(`       - ${failure}`)
}

const header = ['scenario', 'sent', 'completed', 'aborted', 'lost', 'upstream open', 'heap MB before/after', 'RSS MB before/after', 'CLOSE_WAIT', 'result']
const table = rows.map((f) => [f.scenario, f.sent, f.completed, f.aborted, f.lost, f.upstreamOpen, `${mb(f.heapBefore)} / ${mb(f.heapAfter)}`, `${mb(f.rssBefore)} / ${mb(f.rssAfter)}`, f.closeWait, f.failures.length ? 'FAIL' : 'ok'].map(String))
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)))
const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
console.log(`\n${line(header)}\n|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|\n${table.map(line).join('\n')}`)
process.exit(rows.some((f) => f.failures.length) ? 1 : 0)
