import { deprecationState } from './deprecation.ts'
import type { Catalog, Model, Provider } from './types.ts'

/** The process environment, or a test's stand-in for it. */
export type Env = Readonly<Record<string, string | undefined>>

/** What decides whether a model is listed, passed in so that queries stay pure. */
export interface ListingContext {
  readonly env: Env
  readonly exposeExperimental: boolean
  readonly now: Date
}

/** A provider is configured when it needs no key, or its key variable is set and not empty. */
export function providerConfigured(provider: Provider, env: Env): boolean {
  return provider.api_key_env === undefined || Boolean(env[provider.api_key_env])
}

/** Inactive and retired (past sunset) models cannot be called; experimental ones can. */
export function isCallable(model: Model, now: Date): boolean {
  return model.active && deprecationState(model, now).state !== 'retired'
}

/**
 * A model is listed when it is callable, its provider (one of its deployments') is configured, and it is not
 * experimental unless experimental models are exposed.
 */
export function isListed(catalog: Catalog, model: Model, ctx: ListingContext): boolean {
  return (
    isCallable(model, ctx.now) &&
    (!model.experimental || ctx.exposeExperimental) &&
    (model.deployments ?? [model]).some((d) => providerConfigured(catalog.providers[d.provider]!, ctx.env))
  )
}

/** The models listed in `ctx`, in catalog order. */
export function listedModels(catalog: Catalog, ctx: ListingContext): Model[] {
  return Object.values(catalog.models).filter((m) => isListed(catalog, m, ctx))
}
