// The shipped server with fallbacks declared on the suite's two models (each to the other
// protocol, then to a third model), for the error storm's run with fallbacks on.
import { catalog } from '../../src/catalog/catalog.generated.ts'
import type { Model } from '../../src/catalog/types.ts'
import { serve } from '../../src/serve.ts'
import { FALLBACKS } from './harness.ts'

const models: Record<string, Model> = { ...catalog.models }
for (const [id, fallbacks] of Object.entries(FALLBACKS)) models[id] = { ...models[id]!, fallbacks }
await serve({ ...catalog, models })
