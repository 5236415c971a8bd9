// `npm run bench:catalog`: the full catalog build (parse, hazards, schema, rules, emit) on a
// generated 10,000-model catalog, beside a bare `yaml` parse of the same file, each in fresh
// processes in the same run. Target: the build within 2.5x the bare parse's time.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

const MODELS = 10_000
const RUNS = 5
const TARGET = 2.5

type Sample = { ms: number; peakMb: number }

if (process.argv[2] === '--child') {
  const [mode, file, out] = process.argv.slice(3) as [string, string, string]
  const text = readFileSync(file, 'utf8')
  const start = performance.now()
  if (mode === 'parse') {
    const { parse } = await import('yaml')
    parse(text)
  } else {
    const { compileCatalog } = await import('./compiler/compile.ts')
    const { emitModule } = await import('./compiler/emit.ts')
    const result = compileCatalog(text)
    if (!result.ok) throw new Error(`generated catalog is invalid: ${result.errors[0]?.message}`)
    writeFileSync(out, emitModule(result.catalog))
  }
  const sample: Sample = { ms: performance.now() - start, peakMb: process.resourceUsage().maxRSS / 1024 }
  console.log(JSON.stringify(sample))
} else {
  const dir = mkdtempSync(join(tmpdir(), 'bench-catalog-'))
  const file = join(dir, 'models.yaml')
  writeFileSync(file, _generate(readFileSync(new URL('../models.yaml', import.meta.url), 'utf8')))
  const run = (mode: string): Sample =>
    JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', mode, file, join(dir, 'out.ts')], { encoding: 'utf8' })) as Sample
  // Interleave so that machine noise falls on both alike.
  const parse: Sample[] = []
  const build: Sample[] = []
  for (let i = 0; i < RUNS; i++) {
    parse.push(run('parse'))
    build.push(run('build'))
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const row = (name: string, s: Sample[]) => `${name.padEnd(22)}${median(s.map((x) => x.ms)).toFixed(0).padStart(10)}${median(s.map((x) => x.peakMb)).toFixed(0).padStart(16)}`
  const ratio = median(build.map((x) => x.ms)) / median(parse.map((x) => x.ms))
  const memory = median(build.map((x) => x.peakMb)) / median(parse.map((x) => x.peakMb))
  console.log(`catalog build: ${MODELS} models, ${(readFileSync(file).length / 1e6).toFixed(1)} MB of YAML; median of ${RUNS} fresh processes each\n`)
  console.log(`${''.padEnd(22)}${'time (ms)'.padStart(10)}${'peak RSS (MB)'.padStart(16)}`)
  console.log(row('bare yaml parse', parse))
  console.log(row('full build', build))
  console.log(`${'build / parse'.padEnd(22)}${`${ratio.toFixed(2)}x`.padStart(10)}${`${memory.toFixed(2)}x`.padStart(16)}`)
  console.log(`\ntarget: build time within ${TARGET}x of the bare parse: ${ratio <= TARGET ? 'met' : 'MISSED'}`)
  rmSync(dir, { recursive: true })
}

// The shipped catalog with its models cycled into MODELS entries (ids made unique, aliases and
// deprecations dropped so that every entry stays valid).
function _generate(shipped: string): string {
  const models = shipped.slice(shipped.indexOf('\nmodels:\n') + 9, shipped.indexOf('\n# Unlisted ids'))
  const entries = models
    .split(/\n(?=  [a-z0-9])/)
    .map((e) => e.replace(/^( {2}#.*\n)+/, '').replace(/\n {4}(aliases|deprecation):.*/g, ''))
    .filter((e) => /^ {2}[a-z0-9]/.test(e))
  const out = [shipped.slice(0, shipped.indexOf('\nmodels:\n') + 9)]
  for (let i = 0; i < MODELS; i++) {
    const entry = entries[i % entries.length]!
    out.push(entry.replace(/^ {2}([^:\n]+):/, `  $1-${String(i).padStart(5, '0')}:`).trimEnd(), '')
  }
  return out.join('\n')
}
