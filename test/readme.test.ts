import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { nodeHandler } from '../src/node-handler.ts'
import { describe, expect, it } from 'vitest'
import { demoEnv, demoMock } from '../scripts/demo.ts'
import { createApp } from '../src/app.ts'
import { catalog } from '../src/catalog/catalog.generated.ts'

const root = new URL('../', import.meta.url).pathname
const readme = readFileSync(join(root, 'README.md'), 'utf8')

/** The ```sh blocks of the README section titled `title`. */
function shellBlocks(title: string): string[] {
  const section = readme.split(/\n## /).find((s) => s.startsWith(`${title}\n`))
  if (!section) throw new Error(`README has no section ${title}`)
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!)
}

// A copy of the project with its own git history, so that the README's commands (which edit
// models.yaml, branch and commit) run as a contributor would run them, and nothing here changes.
function project(): { dir: string; sh: (script: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'readme-'))
  for (const f of ['package.json', 'tsconfig.json', 'models.yaml', 'teams.yaml', 'schema', 'scripts', 'src']) cpSync(join(root, f), join(dir, f), { recursive: true })
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' }
  const sh = (script: string) => execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env, encoding: 'utf8' })
  sh('git init -q -b main && git add -A && git commit -qm init')
  return { dir, sh }
}

describe('the README', () => {
  it('every curl line gets a 2xx from the demo (gateway + mock upstream)', async () => {
    const mock = createServer(nodeHandler(demoMock().app)).listen(0, '127.0.0.1')
    await once(mock, 'listening')
    const { app } = createApp({ catalog, env: demoEnv(`http://127.0.0.1:${(mock.address() as AddressInfo).port}`), log: () => {} })
    const curls = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n')).filter((l) => l.startsWith('curl '))
    expect(curls.length).toBeGreaterThan(25)
    for (const line of curls) {
      const path = /http:\/\/127\.0\.0\.1:8000(\S+)/.exec(line)![1]!
      const body = /-d '([^']*)'/.exec(line)?.[1]
      const headers: Record<string, string> = Object.fromEntries([...line.matchAll(/-H '([^:]+): ([^']*)'/g)].map((m) => [m[1]!, m[2]!]))
      if (body) headers['content-type'] ??= 'application/x-www-form-urlencoded' // what curl -d sends
      const res = await app.fetch(new Request(`http://gateway.test${path}`, { method: body ? 'POST' : 'GET', headers, body }))
      expect(res.status, line).toBeGreaterThanOrEqual(200)
      expect(res.status, line).toBeLessThan(300)
      expect((await res.text()).length, line).toBeGreaterThan(1)
    }
    mock.close()
  })

  it('quick start: its catalog check passes on the shipped catalog', () => {
    const check = shellBlocks('Quick start')[0]!.split('\n').find((l) => l.startsWith('npm run catalog'))!
    expect(project().sh(check)).toMatch(/models\.yaml: valid: \d+ models, 3 providers, \d+ patterns/)
  })

  it('"Add or change a model": every command works, in order, on a copy of the project', () => {
    const [add, lifecycle] = shellBlocks('Add or change a model')
    const { dir, sh } = project()
    const out = sh(add!)
    expect(out).toContain('added gpt-6-preview as experimental')
    expect(out).toContain('models.yaml: valid:')
    expect(out).toContain('**Added** (1)\n- `gpt-6-preview` (openai, reasoning), experimental')
    expect(sh('git log --oneline -1 && git status --porcelain')).toMatch(/^[0-9a-f]+ Add gpt-6-preview \(experimental\)\n$/)
    const after = sh(lifecycle!)
    expect(after).toContain('promoted gpt-6-preview to production')
    expect(after).toContain('deprecated gpt-4o: sunset 2027-06-30, replacement gpt-6-preview')
    expect(after).toContain('deactivated gpt-4o')
    const yaml = readFileSync(join(dir, 'models.yaml'), 'utf8')
    expect(yaml).toContain('  gpt-6-preview:\n    name: GPT-6 Preview\n    provider: openai\n    kind: reasoning\n')
    expect(sh('npm run -s catalog -- diff main')).toContain('**Deactivated** (1)\n- `gpt-4o`')
  }, 60_000)
})
