import { describe, expect, it, vi } from 'vitest'
import { compileCatalog } from '../../scripts/compiler/compile.ts'
import { catalogYaml, compileErrors } from '../_setup.ts'

// The base catalog with its m1 entry's `released` line replaced by `line`.
function withLine(line: string, header = ''): string {
  return header + catalogYaml().replace('    released: 2025-01-01\n', `${line}\n`)
}

describe('YAML hazards', () => {
  it('rejects a duplicate model id at the second definition', () => {
    const text = catalogYaml() + '  m1:\n    name: Again\n'
    expect(compileErrors(text)).toEqual(['models.yaml:21:3: m1: duplicate key m1 (a key may appear only once in a map)'])
  })

  it('stops an alias bomb (10^9 nodes if expanded) at its first alias', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`)
    const result = compileCatalog(`${bomb.join('\n')}\n`)
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]).toMatchObject({ line: 2, col: 8, subject: 'yaml' })
    expect(result.errors[0]!.message).toMatch(/^too many alias expansions \(the limit is 50\)/)
  })

  it('reads %YAML 1.1 files as YAML 1.2 and flags what 1.1 reads differently', () => {
    const text = withLine('    experimental: no\n    owned_by: 0777\n    upstream_id: 1e3', '%YAML 1.1\n---\n')
    expect(compileErrors(text)).toEqual([
      'models.yaml:19:19: m1: no is a boolean in YAML 1.1 but a string in YAML 1.2: write true/false, or quote it if you mean the text',
      'models.yaml:20:15: m1: 0777 has a leading zero (octal in YAML 1.1, decimal in YAML 1.2): drop the zero, or quote it',
      'models.yaml:21:18: m1: 1e3 uses exponent notation (YAML 1.1 reads 1e3 as a string): write the number out in digits',
    ])
  })

  it('rejects a quoted no where a boolean belongs, as a type error', () => {
    expect(compileErrors(withLine('    experimental: "no"'))).toEqual(['models.yaml:17:5: m1: experimental must be a boolean (got string "no")'])
  })

  it('flags sexagesimal numbers', () => {
    expect(compileErrors(withLine('    description: 1:30'))).toEqual(['models.yaml:17:18: m1: 1:30 is a base-60 number in YAML 1.1: quote it'])
  })

  it('rejects a list or map used as a key, with its line, and no process warning', () => {
    const warn = vi.spyOn(process, 'emitWarning')
    expect(compileErrors('providers: {}\nmodels:\n  ? [a, b]\n  : {}\n  ? {a: 1}\n  : {}\n')).toEqual(['models.yaml:3:5: models: a list is used as a key: keys are ids, written as strings', 'models.yaml:5:5: models: a map is used as a key: keys are ids, written as strings'])
    expect(warn).not.toHaveBeenCalled()
    warn.mockRestore()
  })

  it('rejects merge keys instead of merging', () => {
    const text = catalogYaml().replace('  m1:\n', '  m1:\n    <<: {name: Merged}\n')
    expect(compileErrors(text)).toEqual(['models.yaml:10:5: m1: merge keys (<<) are not supported: write the fields out'])
  })

  it('treats __proto__ as an unknown field, not a prototype', () => {
    const text = catalogYaml().replace('  m1:\n', '  m1:\n    __proto__: {polluted: true}\n')
    expect(compileErrors(text)).toEqual(['models.yaml:10:5: m1: unknown field __proto__ (known: name, description, provider, upstream_id, aliases, owned_by, family, parameter_size, kind, apis, capabilities, efforts, context_window, max_output, knowledge_cutoff, released, pricing, temperatures, token_limit_param, experimental, experimental_since, stability, active, deprecation, sources, verified, deployments, fallbacks)'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('rejects __proto__ as a model id', () => {
    const text = catalogYaml().replace('models:\n', 'models:\n  __proto__: {name: x}\n')
    expect(compileErrors(text)[0]).toBe('models.yaml:9:3: __proto__: "__proto__" is not a valid model id (letters, digits and `.` `_` `-` `:` `/`, starting with a letter or digit, at most 256 characters.)')
  })

  it('names the entry of a duplicate field, and keeps ids with colons whole', () => {
    const text = catalogYaml({ models: { 'org/model:8b': { name: 'x' } } }) + '  org/model:8b:\n    name: y\n'
    expect(compileErrors(text)).toEqual(['models.yaml:23:3: org/model:8b: duplicate key org/model:8b (a key may appear only once in a map)'])
    expect(compileErrors(catalogYaml().replace('    kind: chat\n', '    kind: chat\n    kind: chat\n'))).toEqual(['models.yaml:13:5: m1: duplicate key kind (a key may appear only once in a map)'])
  })

  it.each([
    ['0x10', 'models.yaml:21:3: models: key 0x10 is not a string: quote it ("0x10")'],
    ['1.50', 'models.yaml:21:3: models: key 1.50 is not a string: quote it ("1.50")'],
    ['true', 'models.yaml:21:3: models: key true is not a string: quote it ("true")'],
  ])('rejects the unquoted id %s instead of converting it', (key, message) => {
    expect(compileErrors(`${catalogYaml()}  ${key}:\n    name: x\n`)).toEqual([message])
  })

  it('reports a syntax error with its position', () => {
    expect(compileErrors('providers: [unclosed\n')).toEqual([expect.stringMatching(/^models\.yaml:2:1: yaml: YAML: /)])
  })
})
