import { describe, expect, it } from 'vitest'
import { regexProblem } from '../../scripts/compiler/rules.ts'
import { baseModel, catalogYaml, compileErrors, compileOk } from '../_setup.ts'

const reasoning = { ...baseModel, kind: 'reasoning', capabilities: ['reasoning'], temperatures: [1] }
const m2 = { m2: baseModel }

describe('cross-field rules', () => {
  // One override per case: [rule, overrides, the one error expected].
  const cases: [string, Parameters<typeof catalogYaml>[0], string][] = [
    ['the provider must exist', { model: { provider: 'opneai' } }, 'models.yaml:11:5: m1: provider opneai is not defined under providers (defined: test)'],
    ['max_output fits the context window', { model: { max_output: 40000 } }, 'models.yaml:16:5: m1: max_output (40000) exceeds context_window (32000)'],
    ['efforts need the reasoning capability', { model: { efforts: ['low'] } }, 'models.yaml:21:5: m1: efforts are set, but capabilities lack reasoning'],
    ['apis agree with the kind', { model: { kind: 'embedding', apis: ['chat'], max_output: undefined } }, 'models.yaml:13:5: m1: apis include chat, which an embedding model does not serve (it may serve embeddings)'],
    ['non-text kinds have no output limit', { model: { kind: 'embedding', apis: ['embeddings'] } }, 'models.yaml:16:5: m1: max_output is set, but an embedding model generates no text'],
    ['non-text kinds have no temperatures', { model: { kind: 'rerank', apis: ['rerank'], max_output: undefined, temperatures: [1] } }, 'models.yaml:20:5: m1: temperatures is set, but a rerank model generates no text'],
    ['reasoning models list their temperatures', { model: { ...reasoning, temperatures: undefined } }, 'models.yaml:12:5: m1: a reasoning model must list the temperatures it accepts (e.g. [1], or [] for none)'],
    ['reasoning models take max_completion_tokens', { model: { ...reasoning, token_limit_param: 'max_tokens' } }, 'models.yaml:25:5: m1: token_limit_param max_tokens does not fit a reasoning model (reasoning models take max_completion_tokens)'],
    ['reasoning models can reason', { model: { ...reasoning, capabilities: ['vision'] } }, 'models.yaml:21:5: m1: a reasoning model must have the reasoning capability'],
    ['completion models take max_tokens', { model: { kind: 'completion', apis: ['completions'], token_limit_param: 'max_completion_tokens' } }, 'models.yaml:21:5: m1: token_limit_param max_completion_tokens does not fit a completion model (the completions API takes max_tokens)'],
    ['an alias never shadows an id', { model: { aliases: ['m2'] }, models: m2 }, 'models.yaml:22:9: m1: alias m2 shadows the model id m2'],
    ['aliases are unique', { model: { aliases: ['x'] }, models: { m2: { ...baseModel, aliases: ['x'] } } }, 'models.yaml:36:9: m2: alias x is already an alias of m1'],
    ['knowledge cutoff precedes release', { model: { knowledge_cutoff: '2025-06-01' } }, 'models.yaml:21:5: m1: knowledge_cutoff (2025-06-01) is after released (2025-01-01)'],
    ['cached input costs no more than input', { model: { pricing: { input: 1, cached_input: 2, output: 2 } } }, 'models.yaml:20:7: m1: pricing.cached_input (2) exceeds pricing.input (1)'],
    ['sunset follows the announcement', { model: { deprecation: { announced: '2025-06-01', sunset: '2025-05-01', replacement: 'm2' } }, models: m2 }, 'models.yaml:23:7: m1: deprecation.sunset (2025-05-01) must be after deprecation.announced (2025-06-01)'],
    ['a model does not replace itself', { model: { deprecation: { sunset: '2025-05-01', replacement: 'm1' } } }, 'models.yaml:23:7: m1: deprecation.replacement names the model itself'],
    ['the replacement exists', { model: { deprecation: { sunset: '2025-05-01', replacement: 'gone' } } }, 'models.yaml:23:7: m1: deprecation.replacement gone is not a model id in this catalog'],
    ['a replacement naming a later model\'s alias says whose', { model: { deprecation: { sunset: '2025-05-01', replacement: 'm2-latest' } }, models: { m2: { ...baseModel, aliases: ['m2-latest'] } } }, 'models.yaml:23:7: m1: deprecation.replacement m2-latest is not a model id in this catalog (it is an alias of m2)'],
    ['the replacement is active', { model: { deprecation: { sunset: '2025-05-01', replacement: 'm2' } }, models: { m2: { ...baseModel, active: false } } }, 'models.yaml:23:7: m1: deprecation.replacement m2 is inactive'],
    ['price tiers go from the smallest prompt up', { model: { pricing: { input: 1, output: 2, tiers: [{ above_input_tokens: 20000, input: 2, output: 4 }, { above_input_tokens: 10000, input: 3, output: 6 }] } } }, 'models.yaml:25:11: m1: pricing.tiers[1].above_input_tokens (10000) must be more than the tier before it (20000): list tiers from the smallest prompt up'],
    ['a price tier is reachable', { model: { pricing: { input: 1, output: 2, tiers: [{ above_input_tokens: 32000, input: 2, output: 4 }] } } }, 'models.yaml:22:11: m1: pricing.tiers[0].above_input_tokens (32000) is not below context_window (32000): no request could reach it'],
    ['a tier\'s cached input costs no more than its input', { model: { pricing: { input: 1, output: 2, tiers: [{ above_input_tokens: 1000, input: 2, cached_input: 3, output: 4 }] } } }, 'models.yaml:24:11: m1: pricing.tiers[0].cached_input (3) exceeds its input price (2)'],
    ['a tier gives a cache price when the base price has one', { model: { pricing: { input: 1, cached_input: 0.1, output: 2, tiers: [{ above_input_tokens: 1000, input: 2, output: 4 }] } } }, 'models.yaml:23:11: m1: pricing.tiers[0] has no cached_input, but the base price has one: give the tier\'s cache-read price (without it cache reads would cost the tier\'s full input price)'],
    ['sources are URLs', { model: { sources: ['developers.openai.com/api/docs/models/m1'] } }, 'models.yaml:22:9: m1: sources[0] "developers.openai.com/api/docs/models/m1" is not a URL (write the page\'s full address, https://...)'],
    ['sources are https', { model: { sources: ['https://example.com/a', 'http://example.com/models'] } }, 'models.yaml:23:9: m1: sources[1] "http://example.com/models" is not an https URL (http)'],
    ['sources carry no credentials', { model: { sources: ['https://user:pw@example.com/models'] } }, 'models.yaml:22:9: m1: sources[0] "https://user:pw@example.com/models" carries credentials: link the public page'],
    ['verified is not in the future', { model: { verified: '2026-11-22' } }, 'models.yaml:21:5: m1: verified (2026-11-22) is in the future (today is 2026-11-21)'],
    ['experimental_since is not in the future', { model: { experimental: true, experimental_since: '2027-01-01' } }, 'models.yaml:22:5: m1: experimental_since (2027-01-01) is in the future (today is 2026-11-21)'],
    ['experimental_since only on experimental models', { model: { experimental_since: '2026-11-01' } }, 'models.yaml:21:5: m1: experimental_since is set, but the model is not experimental (remove it, or set experimental: true)'],
    ['stability only on experimental models', { model: { experimental: false, stability: 'beta' } }, 'models.yaml:22:5: m1: stability is set, but the model is not experimental (remove it, or set experimental: true)'],
    ['a retry wait fits the retry budget', { provider: { retries: { attempts: 2, max_wait_ms: 5000, budget_ms: 1000 } } }, 'models.yaml:10:7: test: retries.max_wait_ms (5000) exceeds retries.budget_ms (1000): no wait that long could fit'],
    ['base URLs are http(s)', { provider: { base_url: 'ftp://example.com/v1' } }, 'models.yaml:5:5: test: base_url must be http(s), not ftp:'],
    ['base URLs carry no credentials', { provider: { base_url: 'https://user:secret@example.com/v1' } }, 'models.yaml:5:5: test: base_url must not contain credentials (name the key variable in api_key_env)'],
    ['base URLs avoid metadata addresses', { provider: { base_url: 'http://169.254.169.254/latest' } }, 'models.yaml:5:5: test: base_url must not point at a link-local or cloud metadata address (169.254.169.254)'],
    ['base URLs are URLs', { provider: { base_url: 'not a url' } }, 'models.yaml:5:5: test: base_url "not a url" is not a URL'],
    ['endpoint types fit the protocol', { provider: { protocol: 'anthropic' } }, 'models.yaml:7:5: test: endpoint_type openAI does not fit the anthropic protocol (use anthropic)'],
    ['pattern regexes are safe', { patterns: [{ match: '^(a+)+$', description: 'd', like: 'm1' }] }, 'models.yaml:22:5: patterns[0]: match "^(a+)+$" repeats a group that itself repeats or alternates (like (a+)+ or (a|b)*), which can take exponential time'],
    ['pattern regexes stay polynomial', { patterns: [{ match: '^.*.*.*z$', description: 'd', like: 'm1' }] }, 'models.yaml:22:5: patterns[0]: match "^.*.*.*z$" has 3 unbounded quantifiers (* + {n,}); at most 2 keep matching fast'],
    ['pattern regexes compile', { patterns: [{ match: '^(x$', description: 'd', like: 'm1' }] }, 'models.yaml:22:5: patterns[0]: match "^(x$" does not compile: Invalid regular expression: /^(x$/: Unterminated group'],
    ['like refers to groups that exist', { patterns: [{ match: '^x-(.*)$', description: 'd', like: '$2' }] }, 'models.yaml:24:5: patterns[0]: like uses $2, but match has 1 group'],
    ['a literal like names a model', { patterns: [{ match: '^x-.*$', description: 'd', like: 'nope' }] }, 'models.yaml:24:5: patterns[0]: like nope is not a model id or alias in this catalog'],
    ['a pattern without like says what the id is', { patterns: [{ match: '^x-.*$', description: 'd', kind: 'chat' }] }, 'models.yaml:22:5: patterns[0]: a pattern without like must set provider, apis'],
    ['a pattern with like sets nothing else', { patterns: [{ match: '^x-.*$', description: 'd', like: 'm1', kind: 'chat' }] }, 'models.yaml:25:5: patterns[0]: a pattern with like takes every field from the model it names: remove kind'],
    ['a replacement outlives the model', { model: { deprecation: { sunset: '2025-05-01', replacement: 'm2' } }, models: { m2: { ...baseModel, deprecation: { sunset: '2025-04-01' } } } }, 'models.yaml:23:7: m1: deprecation.replacement m2 is itself sunset on 2025-04-01, before 2025-05-01'],
    ['a replacement is a model, not an Object member', { model: { deprecation: { sunset: '2025-05-01', replacement: 'constructor' } } }, 'models.yaml:23:7: m1: deprecation.replacement constructor is not a model id in this catalog'],
    ['a literal like is a model, not an Object member', { patterns: [{ match: '^x-.*$', description: 'd', like: 'toString' }] }, 'models.yaml:24:5: patterns[0]: like toString is not a model id or alias in this catalog'],
    ['efforts on a non-text model are reported once', { model: { kind: 'embedding', apis: ['embeddings'], max_output: undefined, efforts: ['low'] } }, 'models.yaml:20:5: m1: efforts is set, but an embedding model generates no text'],
    ['base URLs avoid IPv4-mapped metadata addresses', { provider: { base_url: 'http://[::ffff:169.254.169.254]/v1' } }, 'models.yaml:5:5: test: base_url must not point at a link-local or cloud metadata address ([::ffff:a9fe:a9fe])'],
    ['base URLs avoid metadata hosts with a trailing dot', { provider: { base_url: 'http://metadata.google.internal./v1' } }, 'models.yaml:5:5: test: base_url must not point at a link-local or cloud metadata address (metadata.google.internal.)'],
    ['a pattern provider must exist', { patterns: [{ match: '^x-.*$', description: 'd', provider: 'nope', kind: 'chat', apis: ['chat'] }] }, 'models.yaml:24:5: patterns[0]: provider nope is not defined under providers (defined: test)'],
    ['a deployment\'s provider exists', { model: { deployments: [{ provider: 'nope' }] } }, 'models.yaml:22:9: m1: deployments[0].provider nope is not defined under providers'],
    ['a deployment is given once', { model: { deployments: [{ provider: 'test', weight: 2 }, { provider: 'test', upstream_id: 'm1' }] } }, 'models.yaml:24:9: m1: deployments[1] repeats test/m1: give each place once (weight says how much it gets)'],
    ['a fallback exists', { model: { fallbacks: ['m2-latest'] }, models: { m2: { ...baseModel, aliases: ['m2-latest'] } } }, 'models.yaml:22:9: m1: fallbacks[0] m2-latest is not a model id in this catalog (it is an alias of m2)'],
    ['a fallback is not the model itself', { model: { fallbacks: ['m1'] } }, 'models.yaml:22:9: m1: fallbacks[0] names the model itself'],
    ['a fallback is active', { model: { fallbacks: ['m2'] }, models: { m2: { ...baseModel, active: false } } }, 'models.yaml:22:9: m1: fallbacks[0] m2 is inactive'],
    ['a fallback serves one of the model\'s APIs', { model: { fallbacks: ['e'] }, models: { e: { ...baseModel, kind: 'embedding', apis: ['embeddings'], max_output: undefined } } }, 'models.yaml:22:9: m1: fallbacks[0] e serves none of this model\'s APIs (chat; it serves embeddings)'],
    ['fallbacks form no cycle', { model: { fallbacks: ['m2'] }, models: { m2: { ...baseModel, fallbacks: ['m3'] }, m3: { ...baseModel, fallbacks: ['m1'] } } }, 'models.yaml:21:5: m1: fallbacks form a cycle: m1 -> m2 -> m3 -> m1'],
    ['a fallback is a model, not an Object member', { model: { fallbacks: ['constructor'] } }, 'models.yaml:22:9: m1: fallbacks[0] constructor is not a model id in this catalog'],
    ['a weighted alias never shadows an id', { models: m2, weighted_aliases: { m2: { models: { m1: 1, m2: 1 } } } }, 'models.yaml:34:3: m2: weighted alias m2 shadows the model id m2'],
    ['a weighted alias never shadows an alias', { model: { aliases: ['ab'] }, models: m2, weighted_aliases: { ab: { models: { m1: 1, m2: 1 } } } }, 'models.yaml:36:3: ab: weighted alias ab is already an alias of m1'],
    ['a weighted alias splits between models', { weighted_aliases: { ab: { models: { m1: 1, gone: 1 } } } }, 'models.yaml:25:7: ab: gone is not a model id in this catalog'],
    ['a weighted alias splits between active models', { models: { m2: { ...baseModel, active: false } }, weighted_aliases: { ab: { models: { m1: 1, m2: 1 } } } }, 'models.yaml:38:7: ab: m2 is inactive'],
    ['the models of a weighted alias share an API', { models: { e: { ...baseModel, kind: 'embedding', apis: ['embeddings'], max_output: undefined } }, weighted_aliases: { ab: { models: { m1: 1, e: 1 } } } }, 'models.yaml:34:5: ab: the models of ab serve no API in common: a client of one would fail on another'],
    ['weights are positive', { models: m2, weighted_aliases: { ab: { models: { m1: 0, m2: 1 } } } }, 'models.yaml:36:7: ab: weighted_aliases.ab.models.m1 must be at least 1 (got 0)'],
    ['deployment weights are positive', { model: { deployments: [{ provider: 'test', weight: 0 }] } }, 'models.yaml:23:9: m1: deployments[0].weight must be at least 1 (got 0)'],
  ]

  it.each(cases)('%s', (_, overrides, expected) => {
    expect(compileErrors(catalogYaml(overrides))).toEqual([expected])
  })

  it('accepts an alias named like an Object member', () => {
    expect(compileOk(catalogYaml({ model: { aliases: ['valueOf'] } })).aliases).toEqual({ valueOf: 'm1' })
  })

  it('still checks the rules when the schema rejects something at the top level', () => {
    expect(compileErrors(`${catalogYaml({ model: { max_output: 40000 } })}modles: {}\n`)).toEqual([
      'models.yaml:16:5: m1: max_output (40000) exceeds context_window (32000)',
      'models.yaml:21:1: modles: unknown field modles (did you mean models?)',
    ])
  })

  it('accepts what the rules allow', () => {
    const catalog = compileOk(
      catalogYaml({
        model: { ...reasoning, efforts: ['low', 'high'], deprecation: { announced: '2025-01-01', sunset: '2025-06-01', replacement: 'm2' } },
        models: { m2: { ...baseModel, aliases: ['two'] }, e: { ...baseModel, kind: 'embedding', apis: ['embeddings'], max_output: undefined } },
        patterns: [{ match: '^m-(\\d)$', description: 'numbered', like: 'm$1' }],
      }),
    )
    expect(catalog.models.m1!.token_limit_param).toBe('max_completion_tokens')
    expect(catalog.models.e).not.toHaveProperty('token_limit_param')
    expect(catalog.aliases).toEqual({ two: 'm2' })
  })
})

describe('routing rules', () => {
  // A second provider, after the first: an anthropic one, and another openai one.
  const twoProviders = (deployments: string) =>
    catalogYaml({ model: { fallbacks: ['m2'] }, models: m2, weighted_aliases: { ab: { description: 'a test', models: { m1: 3, m2: 1 } } } })
      .replace('models:\n', `  claude:\n    name: Claude\n    protocol: anthropic\n    base_url: http://127.0.0.1:9\n    endpoint_type: anthropic\n  other:\n    name: Other\n    protocol: openai\n    base_url: http://127.0.0.1:9/v1\n    endpoint_type: custom\nmodels:\n`)
      .replace('  m1:\n', `  m1:\n    deployments:\n${deployments}`)

  it('a deployment speaks the protocol of the model\'s provider', () => {
    expect(compileErrors(twoProviders('      - {provider: test}\n      - {provider: claude}\n'))).toEqual([
      'models.yaml:22:10: m1: deployments[1].provider claude speaks anthropic, but the model\'s provider test speaks openai: every deployment takes the same requests',
    ])
  })

  it.each([
    ['a weighted alias without models', { weighted_aliases: { ab: { description: 'x' } } }, ['models.yaml:22:3: ab: missing required field models in weighted_aliases.ab']],
    ['a weighted alias that is not an object', { weighted_aliases: { ab: null } }, ['models.yaml:22:3: ab: weighted_aliases.ab must be a map (got null)']],
    ['a fallback to a model the schema refused', { model: { fallbacks: ['m2'] }, models: { m2: { ...baseModel, apis: undefined, fallbacks: 5 } } }, ['models.yaml:23:3: m2: missing required field apis', 'models.yaml:33:5: m2: fallbacks must be a list (got number 5)']],
  ])('reports %s at its place, not as a crash', (_, overrides, expected) => {
    expect(compileErrors(catalogYaml(overrides as Parameters<typeof catalogYaml>[0]))).toEqual(expected)
  })

  it('compiles deployments, fallbacks and weighted aliases as written', () => {
    const catalog = compileOk(twoProviders('      - {provider: test, weight: 3}\n      - {provider: other, upstream_id: m1-q4, weight: 1}\n'))
    expect(catalog.models.m1).toMatchObject({ deployments: [{ provider: 'test', weight: 3 }, { provider: 'other', upstream_id: 'm1-q4', weight: 1 }], fallbacks: ['m2'] })
    expect(catalog.weighted_aliases).toEqual({ ab: { description: 'a test', models: { m1: 3, m2: 1 } } })
  })
})

describe('regexProblem', () => {
  const nested = 'repeats a group that itself repeats or alternates (like (a+)+ or (a|b)*), which can take exponential time'
  it.each([
    ['^(gpt-[a-z0-9.-]+?|o[1-9][a-z0-9-]*?)-\\d{4}-\\d{2}-\\d{2}$', undefined],
    ['^(ab){2}$', undefined],
    ['^(a+)?$', undefined],
    ['^[(|]+x$', undefined],
    ['^a|b$', undefined], // matched as ^(?:^a|b$)$: whole ids only
    ['^(a*)*$', nested],
    ['^((ab)+c)+$', nested],
    ['^(a{1,3}){2,}$', nested],
    ['^(a|a)*$', nested],
    ['^(\\w|\\d)+$', nested],
    ['^a+b+c+$', 'has 3 unbounded quantifiers (* + {n,}); at most 2 keep matching fast'],
    ['^(?<x>a)\\k<x>$', 'uses a back-reference, which can take exponential time'],
  ])('%s -> %s', (source, problem) => {
    expect(regexProblem(source)).toBe(problem)
  })
})
