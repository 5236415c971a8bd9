// Compiles models.yaml into src/catalog/catalog.generated.ts (and the schema's types into
// src/catalog/schema.generated.ts). Prints every error as models.yaml:LINE:COL and exits 1.
import { readFileSync, writeFileSync } from 'node:fs'
import { emitModule, emitPolicyModule } from './compiler/emit.ts'
import { compileCatalog, issueReport } from './compiler/compile.ts'
import { catalogSchema, teamsSchema } from './compiler/schema.ts'
import { schemaTypes } from './compiler/schema-types.ts'
import { compileTeams } from './compiler/teams.ts'

const root = new URL('../', import.meta.url)
const file = 'models.yaml'

_write('src/catalog/schema.generated.ts', schemaTypes(catalogSchema))
_write('src/policy/teams-schema.generated.ts', schemaTypes(teamsSchema, 'schema/teams.schema.json'))
const result = compileCatalog(readFileSync(new URL(file, root), 'utf8'), file)
if (!result.ok) {
  const report = issueReport(file, result.errors, process.env.GITHUB_ACTIONS === 'true')
  for (const line of report.stdout) console.log(line)
  for (const line of report.stderr) console.error(line)
  process.exit(1)
}
_write('src/catalog/catalog.generated.ts', emitModule(result.catalog))
const { models, providers, patterns, version } = result.catalog
console.log(`${file}: ${Object.keys(models).length} models, ${Object.keys(providers).length} providers, ${patterns.length} patterns; version ${version}`)

// The access policy, checked against the catalog it names models of.
const teams = compileTeams(readFileSync(new URL('teams.yaml', root), 'utf8'), result.catalog)
if (!teams.ok) {
  const report = issueReport('teams.yaml', teams.errors, process.env.GITHUB_ACTIONS === 'true')
  for (const line of report.stdout) console.log(line)
  for (const line of report.stderr) console.error(line)
  process.exit(1)
}
_write('src/policy/teams.generated.ts', emitPolicyModule(teams.policy))
console.log(`teams.yaml: ${Object.keys(teams.policy.teams).length} teams; version ${teams.policy.version}`)

// Unchanged output keeps its mtime, so watchers do not restart for nothing.
function _write(path: string, text: string): void {
  const url = new URL(path, root)
  let old: string | undefined
  try {
    old = readFileSync(url, 'utf8')
  } catch {}
  if (old !== text) writeFileSync(url, text)
}
