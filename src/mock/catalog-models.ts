import type { Catalog } from '../catalog/types.ts'
import type { MockModel } from './app.ts'

/** Every upstream id of a catalog, announcing the shutdown dates the catalog records: what `npm run mock` and the demo list. */
export function catalogModels(catalog: Catalog): MockModel[] {
  const models = new Map(Object.values(catalog.models).map((m) => [m.upstream_id, { id: m.upstream_id, shutdown_date: m.deprecation?.sunset ?? null }]))
  return [...models.values()]
}
