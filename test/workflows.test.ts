import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { USAGE } from '../scripts/cli/main.ts'

const dir = new URL('../.github/workflows/', import.meta.url)
const scripts = Object.keys((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts)

// Every `run:` line of every workflow, as a list of shell lines.
const runs = readdirSync(dir)
  .filter((f) => f.endsWith('.yml'))
  .flatMap((f) => {
    const workflow = parse(readFileSync(new URL(f, dir), 'utf8')) as { jobs: Record<string, { steps: { run?: string }[] }> }
    return Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((step) => (step.run ?? '').split('\n').map((line) => [f, line.trim()] as const)))
  })

describe('the workflows', () => {
  it('call npm scripts the package has, and catalog commands the CLI knows', () => {
    const npm = runs.flatMap(([f, line]) => [...line.matchAll(/npm run (?:-s )?([\w:-]+)(?: -- (\S+))?/g)].map((m) => [f, m[1]!, m[2]] as const))
    expect(npm.length).toBeGreaterThan(3)
    for (const [f, script, command] of npm) {
      expect(scripts, `${f}: npm run ${script}`).toContain(script)
      if (script === 'catalog') expect(USAGE, `${f}: catalog ${command}`).toMatch(new RegExp(`^  ${command} `, 'm'))
    }
  })

  it('has the daily lifecycle run fix the catalog and open a pull request with the report', () => {
    const lifecycle = runs.filter(([f]) => f === 'catalog-lifecycle.yml').map(([, line]) => line)
    expect(lifecycle).toContain('npm run -s catalog -- check-upstream --fix > report.txt 2>&1')
    expect(lifecycle.some((line) => line.startsWith('gh pr create --head "$BRANCH" --base "$BASE"'))).toBe(true)
    // A scheduled run has no event repository: the base is the ref it runs on.
    expect(readFileSync(new URL('catalog-lifecycle.yml', dir), 'utf8')).toContain('BASE: ${{ github.ref_name }}')
  })
})
