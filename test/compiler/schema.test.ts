import { describe, expect, it } from 'vitest'
import { baseModel, catalogYaml, compileErrors, compileOk } from '../_setup.ts'

describe('the schema', () => {
  it('accepts the base catalog', () => {
    const catalog = compileOk(catalogYaml())
    expect(catalog.models.m1).toMatchObject({ id: 'm1', upstream_id: 'm1', owned_by: 'test', active: true, experimental: false, token_limit_param: 'max_tokens' })
    expect(catalog.providers.test).toMatchObject({ timeout_ms: 600000, stream_idle_timeout_ms: 120000 })
  })

  // One override per case: [what, overrides, the one error expected].
  const cases: [string, Parameters<typeof catalogYaml>[0], string][] = [
    ['a typo in a field name', { model: { contxt_window: 1000 } }, 'models.yaml:21:5: m1: unknown field contxt_window (did you mean context_window?)'],
    ['an unknown field with no close match', { model: { colour: 'red' } }, 'models.yaml:21:5: m1: unknown field colour (known: name, description, provider, upstream_id, aliases, owned_by, family, parameter_size, kind, apis, capabilities, efforts, context_window, max_output, knowledge_cutoff, released, pricing, temperatures, token_limit_param, experimental, experimental_since, stability, active, deprecation, sources, verified, deployments, fallbacks)'],
    ['a missing required field', { model: { name: undefined } }, 'models.yaml:9:3: m1: missing required field name'],
    ['a string where an integer belongs', { model: { context_window: '32k' } }, 'models.yaml:15:5: m1: context_window must be an integer (got string "32k")'],
    ['a fraction where an integer belongs', { model: { max_output: 10.5 } }, 'models.yaml:16:5: m1: max_output must be an integer (got number 10.5)'],
    ['a zero context window', { model: { context_window: 0 } }, 'models.yaml:15:5: m1: context_window must be at least 1 (got 0)'],
    ['an unknown kind', { model: { kind: 'chta' } }, 'models.yaml:12:5: m1: kind must be one of chat, reasoning, completion, embedding, rerank, moderation (got "chta")'],
    ['an unknown api', { model: { apis: ['chat', 'images'] } }, 'models.yaml:15:9: m1: apis[1] must be one of chat, completions, responses, embeddings, rerank, moderations (got "images")'],
    ['no apis', { model: { apis: [] } }, 'models.yaml:13:5: m1: apis must not be empty'],
    ['a duplicate capability', { model: { capabilities: ['vision', 'vision'] } }, 'models.yaml:21:5: m1: capabilities lists "vision" twice'],
    ['an unknown effort', { model: { capabilities: ['reasoning'], efforts: ['extreme'] } }, 'models.yaml:24:9: m1: efforts[0] must be one of none, minimal, low, medium, high, xhigh, max (got "extreme")'],
    ['an impossible date', { model: { released: '2025-02-30' } }, 'models.yaml:17:5: m1: released must be a real date written YYYY-MM-DD (got "2025-02-30")'],
    ['a date in another format', { model: { knowledge_cutoff: '2024/06/01' } }, 'models.yaml:21:5: m1: knowledge_cutoff must be a real date written YYYY-MM-DD (got "2024/06/01")'],
    ['a negative price', { model: { pricing: { input: -1, output: 2 } } }, 'models.yaml:19:7: m1: pricing.input must be at least 0 (got -1)'],
    ['a price without output', { model: { pricing: { input: 1 } } }, 'models.yaml:18:5: m1: missing required field output in pricing'],
    ['a price tier without an output price', { model: { pricing: { input: 1, output: 2, tiers: [{ above_input_tokens: 1000, input: 2 }] } } }, 'models.yaml:22:11: m1: missing required field output in pricing.tiers[0]'],
    ['a price tier without its threshold', { model: { pricing: { input: 1, output: 2, tiers: [{ input: 2, output: 4 }] } } }, 'models.yaml:22:11: m1: missing required field above_input_tokens in pricing.tiers[0]'],
    ['a source that is not a string', { model: { sources: [42] } }, 'models.yaml:22:9: m1: sources[0] must be a string (got number 42)'],
    ['a verified day in another format', { model: { verified: '1 Dec 2026' } }, 'models.yaml:21:5: m1: verified must be a real date written YYYY-MM-DD (got "1 Dec 2026")'],
    ['an unknown stability', { model: { experimental: true, stability: 'gamma' } }, 'models.yaml:22:5: m1: stability must be one of alpha, beta, rc (got "gamma")'],
    ['a temperature above 2', { model: { temperatures: [3] } }, 'models.yaml:22:9: m1: temperatures[0] must be at most 2 (got 3)'],
    ['a number where a boolean belongs', { model: { experimental: 1 } }, 'models.yaml:21:5: m1: experimental must be a boolean (got number 1)'],
    ['an unknown token limit parameter', { model: { token_limit_param: 'max_output_tokens' } }, 'models.yaml:21:5: m1: token_limit_param must be one of max_tokens, max_completion_tokens (got "max_output_tokens")'],
    ['a bad parameter size', { model: { parameter_size: '30 billion' } }, 'models.yaml:21:5: m1: parameter_size must match pattern "^[0-9]+(\\.[0-9]+)?[KMBT]$" (got string "30 billion")'],
    ['a model id with a space', { models: { 'bad id': baseModel } }, 'models.yaml:21:3: bad id: "bad id" is not a valid model id (letters, digits and `.` `_` `-` `:` `/`, starting with a letter or digit, at most 256 characters.)'],
    ['an unknown protocol', { provider: { protocol: 'grpc' } }, 'models.yaml:4:5: test: protocol must be one of openai, anthropic (got "grpc")'],
    ['a lowercase env var name', { provider: { api_key_env: 'test_key' } }, 'models.yaml:6:5: test: api_key_env must match pattern "^[A-Z_][A-Z0-9_]{0,127}$" (got string "test_key")'],
    ['too many retries', { provider: { retries: { attempts: 11 } } }, 'models.yaml:9:7: test: retries.attempts must be at most 10 (got 11)'],
    ['retries without attempts', { provider: { retries: { backoff_ms: 100 } } }, 'models.yaml:8:5: test: missing required field attempts in retries'],
    ['an unknown provider field', { provider: { timeout: 5 } }, 'models.yaml:8:5: test: unknown field timeout (did you mean timeout_ms?)'],
    ['a pattern without description', { patterns: [{ match: '^x-.*$', like: 'm1' }] }, 'models.yaml:22:5: patterns[0]: missing required field description'],
  ]

  it.each(cases)('rejects %s with its line, column and a sentence', (_, overrides, expected) => {
    expect(compileErrors(catalogYaml(overrides))).toEqual([expected])
  })

  it('reports every error at once, in file order, cross-field rules included', () => {
    const errors = compileErrors(
      catalogYaml({ provider: { protocol: 'grpc' }, model: { kind: 'chta', context_window: 'big' }, models: { m2: { ...baseModel, max_output: 64000 }, m3: null } }),
    )
    expect(errors).toEqual([
      'models.yaml:4:5: test: protocol must be one of openai, anthropic (got "grpc")',
      'models.yaml:12:5: m1: kind must be one of chat, reasoning, completion, embedding, rerank, moderation (got "chta")',
      'models.yaml:15:5: m1: context_window must be an integer (got string "big")',
      'models.yaml:28:5: m2: max_output (64000) exceeds context_window (32000)',
      'models.yaml:33:3: m3: the model must be a map (got null)',
    ])
  })

  it('does not coerce types or inject defaults', () => {
    expect(compileErrors(catalogYaml({ model: { max_output: '8000' } }))).toEqual(['models.yaml:16:5: m1: max_output must be an integer (got string "8000")'])
    expect(compileOk(catalogYaml()).models.m1).not.toHaveProperty('description')
  })
})
