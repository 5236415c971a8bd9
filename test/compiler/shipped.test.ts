import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { compileCatalog } from '../../scripts/compiler/compile.ts'
import { emitModule } from '../../scripts/compiler/emit.ts'
import { catalogSchema } from '../../scripts/compiler/schema.ts'
import { schemaTypes } from '../../scripts/compiler/schema-types.ts'
import { catalog } from '../../src/catalog/catalog.generated.ts'
import type { ModelId } from '../../src/catalog/catalog.generated.ts'
import type { Model } from '../../src/catalog/types.ts'

const text = readFileSync(new URL('../../models.yaml', import.meta.url), 'utf8')

describe('the shipped models.yaml', () => {
  it('compiles without errors', () => {
    expect(compileCatalog(text).errors).toEqual([])
  })

  it('compiles to byte-identical modules every time, as the built module', () => {
    const first = compileCatalog(text)
    const second = compileCatalog(text)
    expect(emitModule(second.catalog!)).toBe(emitModule(first.catalog!))
    expect(readFileSync(new URL('../../src/catalog/catalog.generated.ts', import.meta.url), 'utf8')).toBe(emitModule(first.catalog!))
    expect(catalog.version).toMatch(/^[0-9a-f]{16}$/)
  })

  it('changes its version with its meaning, not with its comments', () => {
    const version = compileCatalog(text).catalog!.version
    expect(compileCatalog(`${text}\n# a comment\n`).catalog!.version).toBe(version)
    expect(compileCatalog(text.replace('name: GPT-4o\n', 'name: GPT 4o\n')).catalog!.version).not.toBe(version)
  })

  it('is deep-frozen, with model ids as a literal type', () => {
    const id: ModelId = 'claude-sonnet-4-20250514'
    expect(Object.isFrozen(catalog.models[id].capabilities)).toBe(true)
    expect(() => {
      ;(catalog.models[id] as { name: string }).name = 'changed'
    }).toThrow(TypeError)
    expect(catalog.models[id].name).toBe('Sonnet 4')
  })

  it('has the providers the gateway documents', () => {
    expect(catalog.providers.openai).toMatchObject({ protocol: 'openai', base_url: 'https://api.openai.com/v1', base_url_env: 'OPENAI_BASE_URL', api_key_env: 'OPENAI_API_KEY' })
    expect(catalog.providers.anthropic).toMatchObject({ protocol: 'anthropic', base_url: 'https://api.anthropic.com', base_url_env: 'ANTHROPIC_BASE_URL', api_key_env: 'ANTHROPIC_API_KEY' })
    expect(catalog.providers.local).toMatchObject({ protocol: 'openai', base_url: 'http://127.0.0.1:8080/v1', base_url_env: 'LOCAL_BASE_URL' })
    expect(catalog.providers.local).not.toHaveProperty('api_key_env')
  })

  it('lists every model the source documents name, with the APIs they serve', () => {
    const named = ['gpt-5', 'gpt-5.1', 'gpt-5-mini', 'gpt-5-pro', 'gpt-5-codex', 'gpt-5.1-codex', 'gpt-5.1-codex-mini', 'codex-mini-latest', 'gpt-4.1', 'gpt-4.1-nano', 'gpt-4o', 'gpt-4o-mini', 'gpt-4', 'gpt-4-turbo', 'gpt-3.5-turbo', 'o1', 'o1-mini', 'o1-pro', 'o3', 'o3-mini', 'o3-pro', 'o4-mini', 'o3-deep-research', 'o4-mini-deep-research', 'gpt-3.5-turbo-instruct', 'babbage-002', 'davinci-002', 'text-embedding-3-small', 'text-embedding-3-large', 'omni-moderation-latest', 'claude-sonnet-4-20250514', 'qwen3-coder-30b', 'qwen3-embedding-4b', 'qwen3-reranker-4b']
    expect(named.filter((id) => !(id in catalog.models))).toEqual([])
    for (const id of ['gpt-5-pro', 'codex-mini-latest', 'o1-pro']) expect(catalog.models[id as ModelId].apis).toEqual(['responses'])
    expect(catalog.models['gpt-4o-mini'].apis).toEqual(['chat', 'completions', 'responses'])
    for (const id of ['gpt-3.5-turbo-instruct', 'babbage-002', 'davinci-002']) expect(catalog.models[id as ModelId].apis).toEqual(['completions'])
    expect(catalog.aliases['codex-mini']).toBe('codex-mini-latest')
    expect(catalog.models['o3'].token_limit_param).toBe('max_completion_tokens')
    expect(catalog.models['gpt-4o'].token_limit_param).toBe('max_tokens')
  })

  it('says where every model\'s figures come from: the provider\'s own pages', () => {
    const own: Record<string, RegExp> = { openai: /^https:\/\/developers\.openai\.com\//, anthropic: /^https:\/\/platform\.claude\.com\/docs\//, local: /^https:\/\/huggingface\.co\/Qwen\// }
    for (const m of Object.values(catalog.models)) {
      expect(m.sources?.length, m.id).toBeGreaterThan(0)
      for (const url of m.sources!) expect(url, m.id).toMatch(own[m.provider]!)
    }
  })

  it('carries the retirements the providers announced, and the current models that replace them', () => {
    const model = (id: string) => catalog.models[id as ModelId] as Model
    const d = (id: string) => model(id).deprecation
    expect(d('claude-sonnet-4-5-20250929')).toEqual({ sunset: '2026-11-30', replacement: 'claude-sonnet-5-5' })
    expect(d('gpt-5')).toEqual({ announced: '2026-06-11', sunset: '2026-12-11', replacement: 'gpt-6.1-sol' })
    expect(d('gpt-5-mini')).toEqual({ announced: '2026-06-11', sunset: '2026-12-11', replacement: 'gpt-6.1-terra' })
    for (const id of ['gpt-5-pro', 'o3', 'o3-pro']) expect(d(id)).toMatchObject({ announced: '2026-06-11', sunset: '2026-12-11' })
    for (const id of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1']) expect(d(id)).toEqual({ announced: '2026-10-14', sunset: '2027-01-14', replacement: 'gpt-6-luna' })
    expect(d('codex-mini-latest')).toMatchObject({ sunset: '2026-02-12' })
    for (const id of ['gpt-4-turbo', 'gpt-3.5-turbo', 'o1', 'o1-pro', 'o3-mini', 'o4-mini']) expect(d(id)).toMatchObject({ announced: '2026-04-22', sunset: '2026-10-23' })
    for (const id of ['gpt-6.2-sol', 'gpt-6.2-astra', 'gpt-6.1-sol', 'gpt-6.1-terra', 'gpt-6-luna', 'claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5']) {
      expect(model(id), id).toMatchObject({ active: true, experimental: false, verified: '2026-12-01' })
      expect(d(id), id).toBeUndefined()
    }
    expect(model('gpt-6.2-sol').efforts).not.toContain('none')
    expect(model('gpt-6.2-sol').pricing).toEqual({ input: 2, cached_input: 0.1, output: 10, tiers: [{ above_input_tokens: 272000, input: 4, cached_input: 0.2, output: 15 }] })
    for (const id of ['claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5']) expect(model(id).temperatures, id).toEqual([1])
  })
})

describe('the generated catalog types', () => {
  it('declare every field of every schema definition', () => {
    const types = schemaTypes(catalogSchema as Parameters<typeof schemaTypes>[0])
    const defs = Object.values(catalogSchema.$defs as Record<string, { title: string; properties?: Record<string, unknown>; required?: string[] }>)
    for (const def of defs.filter((d) => d.properties)) {
      const body = types.slice(types.indexOf(`export interface ${def.title} {`)).split('\n}')[0]!
      for (const field of Object.keys(def.properties!)) {
        expect(body).toContain(`  readonly ${field}${def.required?.includes(field) ? '' : '?'}: `)
      }
    }
    expect(readFileSync(new URL('../../src/catalog/schema.generated.ts', import.meta.url), 'utf8')).toBe(types)
  })
})
