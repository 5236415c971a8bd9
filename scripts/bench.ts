// `npm run bench`: requests per second and p50/p99 latency of the gateway's listings, beside a
// bare node:http server answering the same bytes, each in its own process, measured in the
// same run with autocannon (interleaved, so machine noise falls on both alike).
// Target: the gateway at least 0.9x the bare server's throughput.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:http'
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 8)
const PATHS = ['/v1/models', '/api/tags']
const CONNECTIONS = [1, 50]
const TARGET = 0.9

if (process.argv[2] === '--bare') {
  // The baseline: the same bodies and content type from a plain node:http handler.
  const bodies = JSON.parse(readFileSync(process.argv[3]!, 'utf8')) as Record<string, string>
  const server = createServer((req, res) => {
    const body = bodies[req.url ?? '']
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(body)
  })
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ message: 'listening', url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })))
} else {
  const gateway = await _start(['--import', 'tsx', 'src/server.ts'], { PORT: '0', OPENAI_API_KEY: 'bench-key', ANTHROPIC_API_KEY: 'bench-key' })
  const bodies = Object.fromEntries(await Promise.all(PATHS.map(async (p) => [p, await (await fetch(new URL(p, gateway.url))).text()])))
  const file = join(mkdtempSync(join(tmpdir(), 'bench-')), 'bodies.json')
  writeFileSync(file, JSON.stringify(bodies))
  const bare = await _start(['--import', 'tsx', new URL(import.meta.url).pathname, '--bare', file], {})

  console.log(`listing throughput: ${DURATION_S} s per run, autocannon in this process, servers in their own\n`)
  console.log(`${'route'.padEnd(12)}${'conns'.padStart(6)}${'bare req/s'.padStart(12)}${'gateway req/s'.padStart(15)}${'ratio'.padStart(8)}${'bare p50/p99 ms'.padStart(18)}${'gateway p50/p99 ms'.padStart(21)}`)
  let worst = Infinity
  for (const path of PATHS) {
    for (const connections of CONNECTIONS) {
      const b = await _load(bare.url, path, connections)
      const g = await _load(gateway.url, path, connections)
      const ratio = g.rps / b.rps
      worst = Math.min(worst, ratio)
      console.log(`${path.padEnd(12)}${String(connections).padStart(6)}${b.rps.toFixed(0).padStart(12)}${g.rps.toFixed(0).padStart(15)}${`${ratio.toFixed(2)}x`.padStart(8)}${`${b.p50}/${b.p99}`.padStart(18)}${`${g.p50}/${g.p99}`.padStart(21)}`)
    }
  }
  console.log(`\ntarget: gateway throughput at least ${TARGET}x the bare server's: ${worst >= TARGET ? 'met' : 'MISSED'} (worst ${worst.toFixed(2)}x)`)
  gateway.child.kill('SIGTERM')
  bare.child.kill('SIGTERM')
}

async function _load(url: string, path: string, connections: number) {
  await autocannon({ url: new URL(path, url).href, connections, duration: 1 }) // warm-up
  const r = await autocannon({ url: new URL(path, url).href, connections, duration: DURATION_S })
  if (r.non2xx || r.errors) throw new Error(`${url}${path}: ${r.non2xx} non-2xx answers, ${r.errors} errors`)
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 }
}

// Starts a Node process that prints a JSON `listening` line with its URL. Its stdout goes to a
// file, not a pipe: the gateway logs a line per request, and a pipe that this busy process
// drains late would block the gateway's writes and measure the bench instead of the gateway.
async function _start(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const log = join(mkdtempSync(join(tmpdir(), 'bench-log-')), 'stdout.log')
  const out = openSync(log, 'w')
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, 'inherit'] })
  let exited: number | null | undefined
  child.once('exit', (code) => (exited = code))
  for (let waited = 0; waited < 30_000; waited += 50) {
    const line = readFileSync(log, 'utf8').split('\n').find((l) => l.includes('"listening"'))
    if (line) return { child, url: JSON.parse(line).url as string }
    if (exited !== undefined) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${args.join(' ')} did not start (exit code ${exited})`)
}
