import { describe, expect, it } from 'vitest'
import { deprecationState } from '../../src/catalog/deprecation.ts'
import { findModel } from '../../src/catalog/lookup.ts'
import { isCallable, isListed, listedModels, providerConfigured } from '../../src/catalog/visibility.ts'
import { baseModel, catalogYaml, compileOk } from '../_setup.ts'

const catalog = compileOk(
  catalogYaml({
    model: { aliases: ['one'] },
    models: {
      'org/model:8b': { ...baseModel, name: 'Slashed' },
      exp: { ...baseModel, experimental: true },
      inactive: { ...baseModel, active: false },
      old: { ...baseModel, deprecation: { announced: '2025-03-01', sunset: '2025-06-01', replacement: 'm1' } },
      reasoner: { ...baseModel, kind: 'reasoning', capabilities: ['reasoning'], temperatures: [1], efforts: ['low'] },
    },
    patterns: [
      { match: '^(m1|reasoner|old)-\\d{4}-\\d{2}-\\d{2}$', description: 'dated snapshots', like: '$1' },
      { match: 'x|y', description: 'unanchored alternatives still match whole ids only', provider: 'test', kind: 'chat', apis: ['chat'] },
      { match: '^(gone)-v\\d$', description: 'like a model that is not listed', like: '$1' },
      { match: '^o[1-9][a-z0-9-]*$', description: 'o-series', provider: 'test', kind: 'reasoning', apis: ['chat'], capabilities: ['reasoning'], temperatures: [1] },
      { match: '^[a-z-]+$', description: 'anything else lowercase', provider: 'test', kind: 'chat', apis: ['chat'] },
    ],
  }),
)
const keyed = { TEST_API_KEY: 'sk-test' }

describe('findModel', () => {
  it.each([
    ['m1', 'm1', 'id'],
    ['one', 'm1', 'alias'],
    ['org/model:8b', 'org/model:8b', 'id'],
    ['inactive', 'inactive', 'id'],
    ['m1-2025-08-06', 'm1-2025-08-06', 'pattern'],
    ['o7-mini', 'o7-mini', 'pattern'],
  ])('%s resolves to %s by %s', (name, id, via) => {
    expect(findModel(catalog, name)).toMatchObject({ model: { id }, via })
  })

  it('answers undefined when nothing matches', () => {
    // gone-v1 matches a `like` rule whose model is not listed, so that rule does not apply.
    for (const name of ['M1', 'gone-v1', 'toString', '__proto__', 'x'.repeat(300), 'X1', 'xY']) expect(findModel(catalog, name), name).toBeUndefined()
    expect(findModel(catalog, 'x')?.model.description).toBe('unanchored alternatives still match whole ids only')
  })

  it('never finds Object.prototype members as models', () => {
    expect(findModel(catalog, 'constructor')).toMatchObject({ model: { id: 'constructor', description: 'anything else lowercase' }, via: 'pattern' })
    expect(findModel(catalog, 'hasOwnProperty')).toBeUndefined()
  })

  it('gives a dated snapshot its base model fields under its own id', () => {
    const { model } = findModel(catalog, 'reasoner-2030-01-02')!
    expect(model).toMatchObject({ id: 'reasoner-2030-01-02', upstream_id: 'reasoner-2030-01-02', kind: 'reasoning', efforts: ['low'], token_limit_param: 'max_completion_tokens', aliases: [] })
  })

  it('keeps a snapshot of a retired model retired', () => {
    const { model } = findModel(catalog, 'old-2025-01-02')!
    expect(model.deprecation).toEqual({ announced: '2025-03-01', sunset: '2025-06-01', replacement: 'm1' })
    expect(isCallable(model, new Date('2025-07-01'))).toBe(false)
  })

  it('builds a model from a pattern rule with its defaults resolved', () => {
    expect(findModel(catalog, 'o7-mini')!.model).toEqual({
      id: 'o7-mini', name: 'o7-mini', description: 'o-series', provider: 'test', kind: 'reasoning', apis: ['chat'],
      capabilities: ['reasoning'], temperatures: [1], upstream_id: 'o7-mini', owned_by: 'test', aliases: [], efforts: [],
      experimental: false, active: true, token_limit_param: 'max_completion_tokens', pattern: '^o[1-9][a-z0-9-]*$',
    })
  })
})

describe('visibility', () => {
  const at = (now: string, env: Record<string, string> = keyed, exposeExperimental = false) => ({ env, exposeExperimental, now: new Date(now) })
  const listed = (ctx: ReturnType<typeof at>) => listedModels(catalog, ctx).map((m) => m.id)

  it('lists active models of configured providers, hiding experimental ones', () => {
    expect(listed(at('2025-04-01'))).toEqual(['m1', 'org/model:8b', 'old', 'reasoner'])
  })

  it('lists experimental models when exposed', () => {
    expect(listed(at('2025-04-01', keyed, true))).toEqual(['m1', 'org/model:8b', 'exp', 'old', 'reasoner'])
  })

  it('lists nothing of a provider whose key is unset or empty', () => {
    expect(listed(at('2025-04-01', {}))).toEqual([])
    expect(listed(at('2025-04-01', { TEST_API_KEY: '' }))).toEqual([])
    expect(providerConfigured({ ...catalog.providers.test!, api_key_env: undefined }, {})).toBe(true)
  })

  it('stops listing and calling a model on its sunset day', () => {
    expect(listed(at('2025-06-01'))).toEqual(['m1', 'org/model:8b', 'reasoner'])
    expect(isCallable(catalog.models.old!, new Date('2025-05-31T23:59:59Z'))).toBe(true)
    expect(isCallable(catalog.models.old!, new Date('2025-06-01T00:00:00Z'))).toBe(false)
  })

  it('keeps experimental models callable and inactive ones not', () => {
    expect(isCallable(catalog.models.exp!, new Date())).toBe(true)
    expect(isCallable(catalog.models.inactive!, new Date())).toBe(false)
    expect(isListed(catalog, catalog.models.inactive!, at('2025-04-01', keyed, true))).toBe(false)
  })
})

describe('deprecationState', () => {
  const old = catalog.models.old!
  it.each([
    ['2025-02-28T23:00:00Z', { state: 'none' }],
    ['2025-03-01T00:00:00Z', { state: 'deprecated', announced: '2025-03-01', sunset: '2025-06-01', replacement: 'm1' }],
    ['2025-06-01T00:00:00Z', { state: 'retired', announced: '2025-03-01', sunset: '2025-06-01', replacement: 'm1' }],
  ])('at %s is %o', (now, state) => {
    expect(deprecationState(old, new Date(now))).toEqual(state)
  })

  it('is none for a model without a deprecation', () => {
    expect(deprecationState(catalog.models.m1!, new Date())).toEqual({ state: 'none' })
  })
})
