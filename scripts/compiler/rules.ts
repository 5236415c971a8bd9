import { baseUrlProblem } from '../../src/catalog/base-url.ts'
import { utcDay } from '../../src/catalog/deprecation.ts'
import { TEXT_KINDS } from '../../src/catalog/model.ts'
import { patternRegExp } from '../../src/catalog/lookup.ts'
import type { Api, CatalogFile, Kind, ModelEntry, PatternEntry } from '../../src/catalog/types.ts'
import type { Issue } from './source.ts'

// The APIs each kind may serve.
const KIND_APIS: Readonly<Record<Kind, readonly Api[]>> = {
  chat: ['chat', 'completions', 'responses'],
  reasoning: ['chat', 'completions', 'responses'],
  completion: ['completions'],
  embedding: ['embeddings'],
  rerank: ['rerank'],
  moderation: ['moderations'],
}

// Patterns run on every unlisted id a client sends (at most 256 characters). Past two
// unbounded quantifiers, backtracking grows as n^3 and beyond.
const MAX_UNBOUNDED_QUANTIFIERS = 2

/**
 * The cross-field rules the schema cannot say, each as a sentence. Entries named in `skip`
 * (`models/ID`, `providers/ID`, `patterns/N`: they failed the schema) are not checked.
 */
export function ruleIssues(file: CatalogFile, skip: ReadonlySet<string> = new Set(), now = new Date()): Issue[] {
  const today = utcDay(now)
  const issues: Issue[] = []
  const add = (path: (string | number)[], message: string) => issues.push({ path, message })
  const providers = Object.keys(file.providers)
  const models = file.models
  const isModel = (id: string) => Object.hasOwn(models, id)
  const owners = new Map<string, string>()

  for (const [id, p] of Object.entries(file.providers)) {
    if (skip.has(`providers/${id}`)) continue
    const problem = baseUrlProblem(p.base_url)
    if (problem) add(['providers', id, 'base_url'], `base_url ${problem}`)
    if (p.protocol === 'anthropic' && p.endpoint_type === 'openAI') add(['providers', id, 'endpoint_type'], 'endpoint_type openAI does not fit the anthropic protocol (use anthropic)')
    const r = p.retries
    if (r?.max_wait_ms !== undefined && r.budget_ms !== undefined && r.max_wait_ms > r.budget_ms) add(['providers', id, 'retries', 'max_wait_ms'], `retries.max_wait_ms (${r.max_wait_ms}) exceeds retries.budget_ms (${r.budget_ms}): no wait that long could fit`)
  }

  // Every alias first, so that a rule of one model can name another's alias, wherever it stands.
  for (const [id, m] of Object.entries(models)) {
    if (skip.has(`models/${id}`)) continue
    m.aliases?.forEach((alias, i) => {
      if (isModel(alias)) add(['models', id, 'aliases', i], `alias ${alias} shadows the model id ${alias}`)
      else if (owners.has(alias)) add(['models', id, 'aliases', i], `alias ${alias} is already an alias of ${owners.get(alias)}`)
      else owners.set(alias, id)
    })
  }

  for (const [id, m] of Object.entries(models)) {
    if (skip.has(`models/${id}`)) continue
    const at = (...rest: (string | number)[]) => ['models', id, ...rest]
    if (!providers.includes(m.provider)) add(at('provider'), `provider ${m.provider} is not defined under providers (defined: ${providers.join(', ')})`)
    _kindIssues(m, (field, message) => add(at(field), message))
    if (m.max_output !== undefined && m.context_window !== undefined && m.max_output > m.context_window) {
      add(at('max_output'), `max_output (${m.max_output}) exceeds context_window (${m.context_window})`)
    }
    if (m.knowledge_cutoff && m.released && m.knowledge_cutoff > m.released) {
      add(at('knowledge_cutoff'), `knowledge_cutoff (${m.knowledge_cutoff}) is after released (${m.released})`)
    }
    if (m.pricing?.cached_input !== undefined && m.pricing.cached_input > m.pricing.input) {
      add(at('pricing', 'cached_input'), `pricing.cached_input (${m.pricing.cached_input}) exceeds pricing.input (${m.pricing.input})`)
    }
    m.pricing?.tiers?.forEach((tier, i) => {
      const before = i === 0 ? undefined : m.pricing!.tiers![i - 1]!.above_input_tokens
      if (before !== undefined && tier.above_input_tokens <= before) add(at('pricing', 'tiers', i, 'above_input_tokens'), `pricing.tiers[${i}].above_input_tokens (${tier.above_input_tokens}) must be more than the tier before it (${before}): list tiers from the smallest prompt up`)
      if (m.context_window !== undefined && tier.above_input_tokens >= m.context_window) add(at('pricing', 'tiers', i, 'above_input_tokens'), `pricing.tiers[${i}].above_input_tokens (${tier.above_input_tokens}) is not below context_window (${m.context_window}): no request could reach it`)
      if (tier.cached_input === undefined && m.pricing!.cached_input !== undefined) add(at('pricing', 'tiers', i), `pricing.tiers[${i}] has no cached_input, but the base price has one: give the tier's cache-read price (without it cache reads would cost the tier's full input price)`)
      if (tier.cached_input !== undefined && tier.cached_input > tier.input) add(at('pricing', 'tiers', i, 'cached_input'), `pricing.tiers[${i}].cached_input (${tier.cached_input}) exceeds its input price (${tier.input})`)
    })
    m.sources?.forEach((url, i) => {
      const problem = _urlProblem(url)
      if (problem) add(at('sources', i), `sources[${i}] ${JSON.stringify(url)} ${problem}`)
    })
    for (const field of ['verified', 'experimental_since'] as const) {
      const day = m[field]
      if (day !== undefined && day > today) add(at(field), `${field} (${day}) is in the future (today is ${today})`)
    }
    if (m.experimental !== true) {
      for (const field of ['experimental_since', 'stability'] as const) {
        if (m[field] !== undefined) add(at(field), `${field} is set, but the model is not experimental (remove it, or set experimental: true)`)
      }
    }
    const d = m.deprecation
    if (d) {
      if (d.announced !== undefined && d.sunset <= d.announced) add(at('deprecation', 'sunset'), `deprecation.sunset (${d.sunset}) must be after deprecation.announced (${d.announced})`)
      const r = d.replacement
      if (r === id) add(at('deprecation', 'replacement'), 'deprecation.replacement names the model itself')
      else if (r !== undefined && !isModel(r)) add(at('deprecation', 'replacement'), `deprecation.replacement ${r} is not a model id in this catalog${owners.has(r) ? ` (it is an alias of ${owners.get(r)})` : ''}`)
      else if (r !== undefined && models[r]?.active === false) add(at('deprecation', 'replacement'), `deprecation.replacement ${r} is inactive`)
      else if (r !== undefined && (models[r]?.deprecation?.sunset ?? '9999') < d.sunset) {
        add(at('deprecation', 'replacement'), `deprecation.replacement ${r} is itself sunset on ${models[r]!.deprecation!.sunset}, before ${d.sunset}`)
      }
    }
  }

  _routingIssues(file, skip, owners, add)

  file.patterns?.forEach((p, i) => {
    if (skip.has(`patterns/${i}`)) return
    const at = (...rest: (string | number)[]) => ['patterns', i, ...rest]
    const problem = regexProblem(p.match)
    if (problem) add(at('match'), `match ${JSON.stringify(p.match)} ${problem}`)
    if (p.provider !== undefined && !providers.includes(p.provider)) add(at('provider'), `provider ${p.provider} is not defined under providers (defined: ${providers.join(', ')})`)
    const own = (['provider', 'kind', 'apis', 'capabilities', 'efforts', 'temperatures', 'token_limit_param'] as const).filter((k) => p[k] !== undefined)
    if (p.like === undefined) {
      const missing = (['provider', 'kind', 'apis'] as const).filter((k) => p[k] === undefined)
      if (missing.length) add(at(), `a pattern without like must set ${missing.join(', ')}`)
    } else if (own.length) {
      add(at(own[0]!), `a pattern with like takes every field from the model it names: remove ${own.join(', ')}`)
    } else if (!problem) {
      const groups = new RegExp(`${p.match}|`).exec('')!.length - 1
      const refs = [...p.like.matchAll(/\$(\d)/g)].map((r) => Number(r[1]))
      const bad = refs.find((n) => n === 0 || n > groups)
      if (bad !== undefined) add(at('like'), `like uses $${bad}, but match has ${groups} group${groups === 1 ? '' : 's'}`)
      if (refs.length === 0 && !isModel(p.like) && !owners.has(p.like)) add(at('like'), `like ${p.like} is not a model id or alias in this catalog`)
    }
    if (p.kind !== undefined) _kindIssues(p, (field, message) => add(at(field), message))
  })
  return issues
}

// Deployments, fallbacks and weighted aliases name things that exist, speak the model's
// protocol or share its APIs, and lead nowhere in a circle.
function _routingIssues(file: CatalogFile, skip: ReadonlySet<string>, owners: ReadonlyMap<string, string>, add: (path: (string | number)[], message: string) => void): void {
  const models = file.models
  // Entries the schema refused are reported there: only their existence is relied on here.
  const sound = (id: string) => !skip.has(`models/${id}`)
  const protocol = (provider: string) => (skip.has(`providers/${provider}`) ? undefined : file.providers[provider]?.protocol)
  const aliasNote = (id: string) => (owners.has(id) ? ` (it is an alias of ${owners.get(id)})` : '')
  const shares = (a: ModelEntry, b: ModelEntry) => a.apis.some((api) => b.apis.includes(api))
  for (const [id, m] of Object.entries(models)) {
    if (skip.has(`models/${id}`)) continue
    const at = (...rest: (string | number)[]) => ['models', id, ...rest]
    const places = new Set<string>()
    m.deployments?.forEach((d, i) => {
      const place = `${d.provider}/${d.upstream_id ?? m.upstream_id ?? id}`
      if (!Object.hasOwn(file.providers, d.provider)) add(at('deployments', i, 'provider'), `deployments[${i}].provider ${d.provider} is not defined under providers`)
      else if (protocol(m.provider) && protocol(d.provider) && protocol(d.provider) !== protocol(m.provider)) add(at('deployments', i, 'provider'), `deployments[${i}].provider ${d.provider} speaks ${protocol(d.provider)}, but the model's provider ${m.provider} speaks ${protocol(m.provider)}: every deployment takes the same requests`)
      if (places.has(place)) add(at('deployments', i), `deployments[${i}] repeats ${place}: give each place once (weight says how much it gets)`)
      places.add(place)
    })
    m.fallbacks?.forEach((f, i) => {
      const target = Object.hasOwn(models, f) ? models[f]! : undefined
      if (f === id) add(at('fallbacks', i), `fallbacks[${i}] names the model itself`)
      else if (!target) add(at('fallbacks', i), `fallbacks[${i}] ${f} is not a model id in this catalog${aliasNote(f)}`)
      else if (!sound(f)) return
      else if (target.active === false) add(at('fallbacks', i), `fallbacks[${i}] ${f} is inactive`)
      else if (!shares(m, target)) add(at('fallbacks', i), `fallbacks[${i}] ${f} serves none of this model's APIs (${m.apis.join(', ')}; it serves ${target.apis.join(', ')})`)
    })
  }
  // A cycle is reported once, at the first model of it in file order.
  const reported = new Set<string>()
  for (const id of Object.keys(models)) {
    if (skip.has(`models/${id}`) || reported.has(id)) continue
    const cycle = _cycleFrom(id, (m) => (Object.hasOwn(models, m) && sound(m) ? (models[m]!.fallbacks ?? []) : []))
    if (!cycle) continue
    cycle.forEach((m) => reported.add(m))
    add(['models', id, 'fallbacks'], `fallbacks form a cycle: ${[...cycle, id].join(' -> ')}`)
  }
  for (const [name, w] of Object.entries(file.weighted_aliases ?? {})) {
    if (skip.has(`weighted_aliases/${name}`)) continue
    const at = (...rest: (string | number)[]) => ['weighted_aliases', name, ...rest]
    if (Object.hasOwn(models, name)) add(at(), `weighted alias ${name} shadows the model id ${name}`)
    else if (owners.has(name)) add(at(), `weighted alias ${name} is already an alias of ${owners.get(name)}`)
    const arms: ModelEntry[] = []
    for (const arm of Object.keys(w.models)) {
      const target = Object.hasOwn(models, arm) ? models[arm]! : undefined
      if (!target) add(at('models', arm), `${arm} is not a model id in this catalog${aliasNote(arm)}`)
      else if (!sound(arm)) continue
      else if (target.active === false) add(at('models', arm), `${arm} is inactive`)
      else arms.push(target)
    }
    const common = arms.reduce<string[] | undefined>((apis, m) => (apis ? apis.filter((a) => m.apis.includes(a as never)) : [...m.apis]), undefined)
    if (arms.length === Object.keys(w.models).length && common?.length === 0) add(at('models'), `the models of ${name} serve no API in common: a client of one would fail on another`)
  }
}

// The fallback chain from `start` back to it (`start`, then the models on the way), if there is one.
function _cycleFrom(start: string, next: (id: string) => readonly string[]): string[] | undefined {
  const path: string[] = []
  const seen = new Set<string>()
  const walk = (id: string): boolean => {
    path.push(id)
    for (const n of next(id)) {
      if (n === start && path.length > 1) return true
      if (n === start || seen.has(n)) continue
      seen.add(n)
      if (walk(n)) return true
    }
    path.pop()
    return false
  }
  return walk(start) ? path : undefined
}

// A source is a provider's page: an https URL with a host, and no credentials.
function _urlProblem(text: string): string | undefined {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'is not a URL (write the page\'s full address, https://...)'
  }
  if (url.protocol !== 'https:') return `is not an https URL (${url.protocol.slice(0, -1)})`
  if (url.username || url.password) return 'carries credentials: link the public page'
  return undefined
}

/** Why a pattern regex is unusable (does not compile, or may backtrack badly), if it is. */
export function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source)
    patternRegExp(source)
  } catch (error) {
    return `does not compile: ${(error as Error).message}`
  }
  if (/\\[1-9]|\\k</.test(source)) return 'uses a back-reference, which can take exponential time'
  const shape = _quantifiers(source)
  if (shape.nested) return 'repeats a group that itself repeats or alternates (like (a+)+ or (a|b)*), which can take exponential time'
  if (shape.unbounded > MAX_UNBOUNDED_QUANTIFIERS) return `has ${shape.unbounded} unbounded quantifiers (* + {n,}); at most ${MAX_UNBOUNDED_QUANTIFIERS} keep matching fast`
  return undefined
}

type Fields = Pick<ModelEntry, 'apis' | 'capabilities' | 'efforts' | 'temperatures' | 'token_limit_param'> &
  Partial<Pick<ModelEntry, 'max_output' | 'kind'>>

function _kindIssues(m: Fields | PatternEntry, add: (field: string, message: string) => void): void {
  const kind = m.kind!
  const wrong = (m.apis ?? []).filter((api) => !KIND_APIS[kind].includes(api))
  if (wrong.length) add('apis', `apis include ${wrong.join(', ')}, which ${_a(kind)} ${kind} model does not serve (it may serve ${KIND_APIS[kind].join(', ')})`)
  if (!TEXT_KINDS.has(kind)) {
    for (const field of ['max_output', 'temperatures', 'token_limit_param', 'efforts'] as const) {
      if (field in m && (m as Record<string, unknown>)[field] !== undefined) add(field, `${field} is set, but ${_a(kind)} ${kind} model generates no text`)
    }
    return
  }
  if (m.efforts?.length && !m.capabilities?.includes('reasoning')) add('efforts', 'efforts are set, but capabilities lack reasoning')
  if (kind === 'reasoning') {
    if (!m.capabilities?.includes('reasoning')) add('capabilities', 'a reasoning model must have the reasoning capability')
    if (m.token_limit_param === 'max_tokens') add('token_limit_param', 'token_limit_param max_tokens does not fit a reasoning model (reasoning models take max_completion_tokens)')
    if (m.temperatures === undefined) add('kind', 'a reasoning model must list the temperatures it accepts (e.g. [1], or [] for none)')
  }
  if (kind === 'completion' && m.token_limit_param === 'max_completion_tokens') {
    add('token_limit_param', 'token_limit_param max_completion_tokens does not fit a completion model (the completions API takes max_tokens)')
  }
}

function _a(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a'
}

// Nested: a repeated group with a repeating quantifier or an alternation inside (star height
// above 1, or overlapping alternatives under repetition). Unbounded: how many * + {n,} appear.
function _quantifiers(source: string): { nested: boolean; unbounded: number } {
  const stack: boolean[] = [false] // per open group: whether something inside repeats or alternates
  let nested = false
  let unbounded = 0
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c === '\\') i++
    else if (c === '[') {
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++
    } else if (c === '(') stack.push(false)
    else if (c === '|') stack[stack.length - 1] = true
    else if (c === ')') {
      const inner = stack.pop() ?? false
      const repeated = _repeats(source.slice(i + 1))
      if (inner && repeated) nested = true
      stack[stack.length - 1] ||= inner || repeated
    } else if (_repeats(source.slice(i))) {
      stack[stack.length - 1] = true
      if (/^([*+]|\{\d+,\})/.test(source.slice(i))) unbounded++
    }
  }
  return { nested, unbounded }
}

// `*`, `+`, `{2}`, `{1,}`, `{0,5}` repeat; `?`, `{1}` and `{0,1}` do not.
function _repeats(rest: string): boolean {
  const m = /^(?:([*+])|\{(\d+)(,(\d*))?\})/.exec(rest)
  if (!m) return false
  if (m[1]) return true
  if (m[3] === undefined) return Number(m[2]) > 1
  return m[4] === '' || Number(m[4]) > 1
}
