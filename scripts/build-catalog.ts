// Compiles models.yaml into src/catalog/catalog.generated.ts (and the schema's types into
// src/catalog/schema.generated.ts). Prints every error as models.yaml:LINE:COL and exits 1.
import { readFileSync, writeFileSync } from 'node:fs'
import { emitModule } from './compiler/emit.ts'
import { compileCatalog, issueReport } from './compiler/compile.ts'
import { catalogSchema } from './compiler/schema.ts'
import { schemaTypes } from './compiler/schema-types.ts'

const root = new URL('../', import.meta.url)
const file = 'models.yaml'

_write('src/catalog/schema.generated.ts', schemaTypes(catalogSchema))
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

// Unchanged output keeps its mtime, so watchers do not restart for nothing.
function _write(path: string, text: string): void {
  const url = new URL(path, root)
  let old: string | undefined
  try {
    old = readFileSync(url, 'utf8')
  } catch {}
  if (old !== text) writeFileSync(url, text)
}
