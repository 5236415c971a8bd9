import type { Model } from './catalog/types.ts'
import { Histogram, SECONDS, TOKENS_PER_SECOND } from './histogram.ts'
import type { Series } from './histogram.ts'
import { Recent } from './recent.ts'

/** How a call of a model ended: answered, failed, given up by its client, or cut off by its upstream mid-stream. */
export type CallResult = 'ok' | 'error' | 'aborted' | 'truncated'

/**
 * The name a model's calls are counted under: its catalog id, or for an id that only a pattern
 * matched, `pattern:` and the pattern (so that clients inventing ids cannot grow the label set).
 */
export function statsName(model: Model): string {
  return model.pattern === undefined ? model.id : `pattern:${model.pattern}`
}

/** A weighted alias and the model it gave a caller. */
export interface Arm {
  readonly alias: string
  readonly model: string
}

/** Per-arm counters of a weighted alias: how each side of an A/B test is doing. */
export interface ArmStats {
  requests: number
  errors: number
  prompt_tokens: number
  completion_tokens: number
  cost: number
}

/** How long an answered call of a model took, in seconds, and how fast a stream came. */
export interface Timing {
  /** To the upstream's first byte (its answer's headers). */
  readonly firstByte?: number
  /** To a stream's first event. */
  readonly firstToken?: number
  /** To the end of the answer. */
  readonly total: number
  /** A stream's output tokens per second after its first event. */
  readonly tokensPerSecond?: number
}

/** Per-model counters since the process started. */
export interface ModelStats {
  requests: number
  errors: number
  /** Calls whose client went away before the answer was complete. */
  aborted: number
  /** Streams cut off after events had reached the client, or ended by the upstream before their last event. */
  truncated: number
  /** Answers whose usage held figures that are not token counts (left out of the tokens). */
  invalid_usage: number
  prompt_tokens: number
  completion_tokens: number
  /** USD, from the catalog's prices. */
  cost: number
}

/** Per-team counters since the process started (a team by its id, never its keys). */
export interface TeamStats {
  requests: number
  prompt_tokens: number
  completion_tokens: number
  cost: number
  /** Requests refused by a limit: requests or tokens per minute, or the spent budget. */
  limited: { requests: number; tokens: number; budget: number }
}

/**
 * Per-process counters: HTTP requests by method, route and status, and requests, errors,
 * tokens and cost by model and by team. Instances share nothing: aggregate across replicas in
 * Prometheus.
 */
export class Stats {
  readonly started: Date
  // HTTP requests by route, method and status: their durations' series (whose count is theirs).
  readonly #http = new Map<string, Map<string, Map<number, Series>>>()
  readonly #models = new Map<string, ModelStats>()
  readonly #teams = new Map<string, TeamStats>()
  readonly #arms = new Map<string, ArmStats>()
  // Routing: retries by deployment, fallbacks by model and fallback, cooldowns by deployment.
  readonly #retries = new Map<string, number>()
  readonly #fallbacks = new Map<string, number>()
  readonly #cooldowns = new Map<string, number>()
  #storeFailures = 0
  readonly #now: () => Date
  // Latencies: HTTP requests by route; model calls by model (and provider where the upstream's own).
  readonly #durations = new Histogram(SECONDS)
  readonly #firstByte = new Histogram(SECONDS)
  readonly #firstToken = new Histogram(SECONDS)
  readonly #completions = new Histogram(SECONDS)
  readonly #speed = new Histogram(TOKENS_PER_SECOND)
  readonly #recent = new Recent()

  /** `now`: the clock, whose time now is when counting starts. */
  constructor(now: () => Date) {
    this.started = now()
    this.#now = now
  }

  /** Counts one answered HTTP request, and how long it took to answer (seconds to its headers: a stream's whole length is its completion's). */
  request(method: string, route: string, status: number, seconds: number): void {
    // Nested maps of strings the request already holds: no key to build and hash per request.
    let byMethod = this.#http.get(route)
    if (!byMethod) this.#http.set(route, (byMethod = new Map()))
    let byStatus = byMethod.get(method)
    if (!byStatus) byMethod.set(method, (byStatus = new Map()))
    let series = byStatus.get(status)
    if (!series) byStatus.set(status, (series = this.#durations.series({ method, route, status: String(status) })))
    this.#durations.add(series, seconds)
  }

  // Each counted label set of HTTP requests, and its series.
  *#httpSeries(): Generator<[{ method: string; route: string; status: number }, Series]> {
    for (const [route, byMethod] of this.#http) for (const [method, byStatus] of byMethod) for (const [status, s] of byStatus) yield [{ method, route, status }, s]
  }

  /** Records how long an answered call of `model` took at `provider`. */
  timing(model: string, provider: string, t: Timing): void {
    if (t.firstByte !== undefined) this.#firstByte.observe({ model, provider }, t.firstByte)
    if (t.firstToken !== undefined) this.#firstToken.observe({ model, provider }, t.firstToken)
    this.#completions.observe({ model }, t.total)
    if (t.tokensPerSecond !== undefined) this.#speed.observe({ model }, t.tokensPerSecond)
    this.#recent.add(model, { at: this.#now().getTime(), seconds: t.total, firstToken: t.firstToken })
  }

  /** Counts one call of a model (inference, not a catalog lookup) and how it ended, for the caller's team and weighted alias too. */
  call(model: string, result: CallResult, team?: string, arm?: Arm): void {
    if (team !== undefined) this.#team(team).requests++
    if (arm) {
      const a = this.#arm(arm)
      a.requests++
      if (result === 'error' || result === 'truncated') a.errors++
    }
    const m = this.#model(model)
    m.requests++
    if (result === 'error' || result === 'truncated') m.errors++
    if (result === 'aborted') m.aborted++
    if (result === 'truncated') m.truncated++
  }

  /** Adds the tokens a response used and what they cost. */
  usage(model: string, promptTokens: number, completionTokens: number, cost: number, invalid = false, team?: string, arm?: Arm): void {
    if (arm) {
      const a = this.#arm(arm)
      a.prompt_tokens += promptTokens
      a.completion_tokens += completionTokens
      a.cost += cost
    }
    if (team !== undefined) {
      const t = this.#team(team)
      t.prompt_tokens += promptTokens
      t.completion_tokens += completionTokens
      t.cost += cost
    }
    const m = this.#model(model)
    if (invalid) m.invalid_usage++
    m.prompt_tokens += promptTokens
    m.completion_tokens += completionTokens
    m.cost += cost
  }

  /** Counts a team's request refused by a limit. */
  limited(team: string, limit: keyof TeamStats['limited']): void {
    this.#team(team).limited[limit]++
  }

  /** Counts a retry on the same deployment (`provider/upstream id`). */
  retry(deployment: string): void {
    _add(this.#retries, deployment)
  }

  /** Counts a request of `model` that its fallback `to` served. */
  fallback(model: string, to: string): void {
    _add(this.#fallbacks, `${model}\u0000${to}`)
  }

  /** Counts a cooldown of a deployment that kept failing. */
  cooldown(deployment: string): void {
    _add(this.#cooldowns, deployment)
  }

  /** Counts a call of the shared limits store (Redis) that failed. */
  storeFailure(): void {
    this.#storeFailures++
  }

  /** The counters at `now`: the body of GET /api/stats; for `only` a team, its own and those of the models it may use. */
  snapshot(now: Date, only?: { readonly team: string; readonly model: (name: string) => boolean }) {
    const byModel = Object.fromEntries([...this.#models].filter(([id]) => !only || only.model(id)).sort(([a], [b]) => a.localeCompare(b)))
    const total = (f: keyof ModelStats) => Object.values(byModel).reduce((sum, m) => sum + m[f], 0)
    let requests = 0
    let errors = 0
    for (const [{ status }, s] of this.#httpSeries()) {
      requests += s.count
      if (status >= 400) errors += s.count
    }
    return {
      since: this.started.toISOString(),
      uptime_seconds: Math.round((now.getTime() - this.started.getTime()) / 1000),
      requests,
      errors,
      requests_by_model: _pick(byModel, 'requests'),
      errors_by_model: _pick(byModel, 'errors'),
      aborted_by_model: _pick(byModel, 'aborted'),
      truncated_by_model: _pick(byModel, 'truncated'),
      invalid_usage_by_model: _pick(byModel, 'invalid_usage'),
      tokens_by_model: Object.fromEntries(Object.entries(byModel).map(([id, m]) => [id, { prompt: m.prompt_tokens, completion: m.completion_tokens }])),
      cost_by_model: _pick(byModel, 'cost'),
      latency_by_model: this.#recent.percentiles(now.getTime(), only?.model),
      total_tokens: total('prompt_tokens') + total('completion_tokens'),
      total_cost: total('cost'),
      ...(this.#teams.size && { teams: Object.fromEntries([...this.#teams].filter(([id]) => !only || id === only.team).sort(([a], [b]) => a.localeCompare(b))) }),
      ...(this.#storeFailures && { limits_store_failures: this.#storeFailures }),
      ...(this.#arms.size && { weighted_aliases: this.#armsSnapshot(only) }),
      ...(this.#fallbacks.size && !only && { fallbacks: _nested(this.#fallbacks) }),
      ...(this.#retries.size && !only && { retries: Object.fromEntries([...this.#retries].sort()) }),
      ...(this.#cooldowns.size && !only && { cooldowns: Object.fromEntries([...this.#cooldowns].sort()) }),
    }
  }

  /** The counters in Prometheus' text format, for GET /metrics. */
  prometheus(labels: Readonly<Record<string, string>>, now: Date): string {
    const out: string[] = []
    const metric = (name: string, type: string, help: string, rows: [Record<string, string>, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
      for (const [l, v] of rows) out.push(`${name}${_labels(l)} ${v}`)
    }
    metric('gateway_info', 'gauge', 'The catalog this instance serves.', [[labels, 1]])
    metric('gateway_uptime_seconds', 'gauge', 'Seconds since the process started.', [[{}, (now.getTime() - this.started.getTime()) / 1000]])
    metric('gateway_http_requests_total', 'counter', 'HTTP requests answered, by method, route and status.', [...this.#httpSeries()].map(([{ method, route, status }, s]) => [{ method, route, status: String(status) }, s.count]))
    const histogram = (name: string, help: string, h: Histogram) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`, ...h.lines(name, _labels))
    histogram('gateway_http_request_duration_seconds', 'HTTP requests by method, route and status: seconds to the answer (its headers; a stream\'s whole length is in gateway_completion_duration_seconds).', this.#durations)
    histogram('gateway_upstream_first_byte_seconds', 'Answered model calls: seconds to the upstream\'s first byte (its headers), by model and provider.', this.#firstByte)
    histogram('gateway_time_to_first_token_seconds', 'Answered streams: seconds to the first event, by model and provider.', this.#firstToken)
    histogram('gateway_completion_duration_seconds', 'Answered model calls: seconds to the end of the answer, by model.', this.#completions)
    histogram('gateway_output_tokens_per_second', 'Answered streams: output tokens per second after the first event, by model.', this.#speed)
    const models = [...this.#models]
    metric('gateway_model_requests_total', 'counter', 'Calls of a model.', models.map(([model, m]) => [{ model }, m.requests]))
    metric('gateway_model_errors_total', 'counter', 'Calls of a model that ended in an error.', models.map(([model, m]) => [{ model }, m.errors]))
    metric('gateway_model_aborted_total', 'counter', 'Calls of a model whose client went away first.', models.map(([model, m]) => [{ model }, m.aborted]))
    metric('gateway_model_truncated_total', 'counter', 'Streams of a model cut off after events had reached the client (the upstream failed, went silent or ended before its last event), ended with an error event and no [DONE]; counted as errors too.', models.map(([model, m]) => [{ model }, m.truncated]))
    metric('gateway_model_invalid_usage_total', 'counter', 'Answers of a model whose usage held figures that are not token counts (left out).', models.map(([model, m]) => [{ model }, m.invalid_usage]))
    metric('gateway_model_tokens_total', 'counter', 'Tokens used, by model and direction.', models.flatMap(([model, m]) => [[{ model, type: 'prompt' }, m.prompt_tokens], [{ model, type: 'completion' }, m.completion_tokens]] as [Record<string, string>, number][]))
    metric('gateway_model_cost_usd_total', 'counter', 'Cost in USD at the catalog prices, by model.', models.map(([model, m]) => [{ model }, m.cost]))
    const teams = [...this.#teams]
    metric('gateway_team_requests_total', 'counter', 'Calls of a model by a team.', teams.map(([team, t]) => [{ team }, t.requests]))
    metric('gateway_team_tokens_total', 'counter', 'Tokens used, by team and direction.', teams.flatMap(([team, t]) => [[{ team, type: 'prompt' }, t.prompt_tokens], [{ team, type: 'completion' }, t.completion_tokens]] as [Record<string, string>, number][]))
    metric('gateway_team_cost_usd_total', 'counter', 'Cost in USD at the catalog prices, by team.', teams.map(([team, t]) => [{ team }, t.cost]))
    metric('gateway_team_limited_total', 'counter', 'Requests of a team refused by a limit (requests, tokens or budget).', teams.flatMap(([team, t]) => Object.entries(t.limited).map(([limit, n]) => [{ team, limit }, n] as [Record<string, string>, number])))
    const arms = [...this.#arms].map(([key, a]) => [_armLabels(key), a] as const)
    metric('gateway_weighted_alias_requests_total', 'counter', 'Calls through a weighted alias, by alias and the model it gave the caller.', arms.map(([l, a]) => [l, a.requests]))
    metric('gateway_weighted_alias_errors_total', 'counter', 'Calls through a weighted alias that ended in an error, by alias and model.', arms.map(([l, a]) => [l, a.errors]))
    metric('gateway_weighted_alias_tokens_total', 'counter', 'Tokens used through a weighted alias, by alias, model and direction.', arms.flatMap(([l, a]) => [[{ ...l, type: 'prompt' }, a.prompt_tokens], [{ ...l, type: 'completion' }, a.completion_tokens]] as [Record<string, string>, number][]))
    metric('gateway_weighted_alias_cost_usd_total', 'counter', 'Cost in USD at the catalog prices through a weighted alias, by alias and model.', arms.map(([l, a]) => [l, a.cost]))
    metric('gateway_upstream_retries_total', 'counter', 'Retries on the same deployment (provider/upstream id) before any byte reached the client.', [...this.#retries].map(([deployment, n]) => [{ deployment }, n]))
    metric('gateway_fallbacks_total', 'counter', 'Requests of a model that a fallback served, by model and fallback.', [...this.#fallbacks].map(([key, n]) => {
      const [model, fallback] = key.split('\u0000') as [string, string]
      return [{ model, fallback }, n]
    }))
    metric('gateway_cooldowns_total', 'counter', 'Cooldowns of a deployment (provider/upstream id) that kept failing.', [...this.#cooldowns].map(([deployment, n]) => [{ deployment }, n]))
    metric('gateway_limits_store_failures_total', 'counter', 'Calls of the shared store (Redis) that failed: limits then counted in process (or refused with 503), a cooldown kept in this process.', [[{}, this.#storeFailures]])
    return `${out.join('\n')}\n`
  }

  #arm(arm: Arm): ArmStats {
    const key = `${arm.alias}\u0000${arm.model}`
    let a = this.#arms.get(key)
    if (!a) this.#arms.set(key, (a = { requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0, cost: 0 }))
    return a
  }

  // Per alias, per model; for a team, the arms of models it may use.
  #armsSnapshot(only?: { readonly model: (name: string) => boolean }): Record<string, Record<string, ArmStats>> {
    const out: Record<string, Record<string, ArmStats>> = {}
    for (const [key, a] of [...this.#arms].sort(([x], [y]) => x.localeCompare(y))) {
      const { alias, model } = _armLabels(key)
      if (!only || only.model(model)) (out[alias] ??= {})[model] = { ...a }
    }
    return out
  }

  #team(id: string): TeamStats {
    let t = this.#teams.get(id)
    if (!t) this.#teams.set(id, (t = { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost: 0, limited: { requests: 0, tokens: 0, budget: 0 } }))
    return t
  }

  #model(id: string): ModelStats {
    let m = this.#models.get(id)
    if (!m) this.#models.set(id, (m = { requests: 0, errors: 0, aborted: 0, truncated: 0, invalid_usage: 0, prompt_tokens: 0, completion_tokens: 0, cost: 0 }))
    return m
  }
}

function _add(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

function _armLabels(key: string): { alias: string; model: string } {
  const [alias, model] = key.split('\u0000') as [string, string]
  return { alias, model }
}

// `a\0b` -> n as { a: { b: n } }, sorted.
function _nested(counts: Map<string, number>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {}
  for (const [key, n] of [...counts].sort(([x], [y]) => x.localeCompare(y))) {
    const [a, b] = key.split('\u0000') as [string, string]
    ;(out[a] ??= {})[b] = n
  }
  return out
}

function _pick(byModel: Record<string, ModelStats>, field: keyof ModelStats): Record<string, number> {
  return Object.fromEntries(Object.entries(byModel).map(([id, m]) => [id, m[field]]))
}

// Label values escape backslash, double quote and newline, as the text format requires.
function _labels(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`)
  return pairs.length ? `{${pairs.join(',')}}` : ''
}
