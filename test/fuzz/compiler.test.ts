// Random mutations of the shipped models.yaml never crash the compiler: the result is a
// catalog that holds together, or errors that each point at a line of the file.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileCatalog } from '../../scripts/compiler/compile.ts'
import { params } from './_fuzz.ts'

const shipped = readFileSync(new URL('../../models.yaml', import.meta.url), 'utf8')

// What a hurried edit, a bad merge or a hostile pull request does to a YAML file.
const TOKENS = [':', ': ', '- ', '  ', '\t', '#', '"', "'", '[', ']', '{', '}', ',', '&a ', '*a', '!!str ', '!!binary ', '<<: *a', '|', '>', '%YAML 1.1', '---', '...', '?', '@', '`', 'no', 'yes', '0777', '1e3', '1:30', '~', 'null', '.inf', '-.nan', '__proto__', 'constructor', '\u0000', '\uFEFF', '\u2028', 'ü', '🙂', '9'.repeat(40)]
const mutation = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), line: fc.nat(), col: fc.nat(), text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: 'binary', maxLength: 6 })) }),
  fc.record({ op: fc.constant('cut' as const), line: fc.nat(), col: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
)

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never

function mutate(text: string, mutations: readonly Mutation[]): string {
  const lines = text.split('\n')
  for (const m of mutations) {
    const i = m.line % lines.length
    const line = lines[i]!
    if (m.op === 'delete') lines.splice(i, 1)
    else if (m.op === 'duplicate') lines.splice(i, 0, line)
    else if (m.op === 'swap') [lines[i], lines[m.other % lines.length]] = [lines[m.other % lines.length]!, line]
    else if (m.op === 'insert') lines[i] = line.slice(0, m.col % (line.length + 1)) + m.text + line.slice(m.col % (line.length + 1))
    else if (m.op === 'cut') lines[i] = line.slice(0, m.col % (line.length + 1))
    else if (m.op === 'indent') lines[i] = m.by > 0 ? ' '.repeat(m.by) + line : line.slice(Math.min(-m.by, line.length - line.trimStart().length))
    if (lines.length === 0) lines.push('')
  }
  return lines.join('\n')
}

describe('the catalog compiler under random edits of models.yaml', () => {
  it('answers a consistent catalog or line-numbered errors, and never throws', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const text = mutate(shipped, mutations)
        const lineCount = text.split(/\r\n|\r|\n/).length
        const result = compileCatalog(text)
        if (result.ok) {
          for (const m of Object.values(result.catalog.models)) expect(result.catalog.providers[m.provider], `${m.id}'s provider`).toBeDefined()
          return
        }
        expect(result.errors.length).toBeGreaterThan(0)
        for (const e of result.errors) {
          expect(e.line, JSON.stringify(e)).toBeGreaterThanOrEqual(1)
          expect(e.line, JSON.stringify(e)).toBeLessThanOrEqual(lineCount + 1)
          expect(e.col, JSON.stringify(e)).toBeGreaterThanOrEqual(1)
          expect(e.message.trim(), JSON.stringify(e)).not.toBe('')
        }
      }),
      params(100),
    )
  }, 600_000)
})
