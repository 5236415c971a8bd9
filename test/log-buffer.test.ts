import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)

// A process that logs `lines` lines through the gateway's stdout buffer, then ends as `end` says.
async function logged(end: string, lines: number): Promise<{ stdout: string; code: number }> {
  const script = `import { bufferedStdout } from './src/app.ts'; const log = bufferedStdout(); for (let i = 0; i < ${lines}; i++) log(JSON.stringify({ n: i })); ${end}`
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), maxBuffer: 1 << 24 })
    return { stdout, code: 0 }
  } catch (error) {
    const e = error as { stdout: string; code: number }
    return { stdout: e.stdout, code: e.code }
  }
}

describe('the log on stdout', () => {
  it('writes every line, in order, when the process ends by itself, exits, or fails', async () => {
    const all = (lines: number) => Array.from({ length: lines }, (_, n) => JSON.stringify({ n })).join('\n') + '\n'
    // 30,000 lines are more than may wait (256 KB): written on the way and at the end.
    expect(await logged('', 30_000)).toEqual({ stdout: all(30_000), code: 0 })
    expect(await logged('process.exit(3)', 15_000)).toEqual({ stdout: all(15_000), code: 3 })
    expect(await logged("throw new Error('boom')", 15_000)).toEqual({ stdout: all(15_000), code: 1 })
  })

  it('writes lines of any length and alphabet as they were given, in order', async () => {
    // Non-ASCII lines, and lines longer than what may wait (256 KB) between them.
    const made = "['café ☕ 🙂', 'x'.repeat(300_000), 'naïve', 'é'.repeat(100_000) + '🙂', 'last']"
    const lines = ['café ☕ 🙂', 'x'.repeat(300_000), 'naïve', `${'é'.repeat(100_000)}🙂`, 'last']
    const script = `import { bufferedStdout } from './src/app.ts'; const log = bufferedStdout(); for (const line of ${made}) log(line)`
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), maxBuffer: 1 << 24 })
    expect(stdout).toBe(`${lines.join('\n')}\n`)
  })

  it('writes a line within its wait while the process runs on', async () => {
    const script = "import { bufferedStdout } from './src/app.ts'; bufferedStdout()('one'); setInterval(() => {}, 1000)"
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d), out.includes('\n') && resolve())))
    child.kill()
    expect(out).toBe('one\n')
  })

  it('keeps the process running when stdout loses its reader, and says so once on stderr', async () => {
    // Logs a line; once told (stdin), logs and writes twice more, then says it ran on.
    const script = "import { bufferedStdout } from './src/app.ts'; const log = bufferedStdout(); log('first'); log.flush(); process.stdin.once('data', () => { log('second'); log.flush(); setImmediate(() => { log('third'); log.flush(); setImmediate(() => { process.stderr.write('ran on\\n'); process.exit(0) }) }) })"
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
    child.stdout.destroy() // the reader goes away
    child.stdin.end('go\n')
    expect(await exited).toBe(0)
    expect(err.match(/stdout cannot be written \(EPIPE\): log lines are dropped from now on/g)).toHaveLength(1)
    expect(err).toContain('ran on\n')
  })
})
