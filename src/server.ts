// The gateway process: serves the compiled catalog (see serve.ts). `npm start` compiles it first.
import { catalog } from './catalog/catalog.generated.ts'
import { serve } from './serve.ts'

await serve(catalog)
