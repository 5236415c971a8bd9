import { readdirSync, readFileSync } from 'node:fs'
import { extname } from 'node:path'
import type { H3 } from 'h3'
import { etagMatches, reply, strongEtag } from '../reply.ts'
import { route } from './internal/methods.ts'

// The dashboard's files: plain HTML, CSS and ES modules, served as they are (no build step).
// The same relative URL works from src/dialects (tsx) and dist/dialects (the package).
const PUBLIC_DIR = new URL('../../public/', import.meta.url)

// What each kind of file is served as; any other file in public/ is not served.
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
}

// The page runs only its own script and style and talks only to this origin, so injected
// markup can neither run code nor send data elsewhere. `data:` images: the empty favicon.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const HEADERS = { 'cache-control': 'no-cache', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' }

// Each file with its path, content type and strong ETag, read once when the module loads: the
// files are part of the package, like the code.
const FILES = readdirSync(PUBLIC_DIR)
  .sort()
  .flatMap((name) => {
    const type = CONTENT_TYPES[extname(name)]
    if (!type) return []
    const body = readFileSync(new URL(name, PUBLIC_DIR), 'utf8')
    return [{ path: name === 'index.html' ? '/' : `/${name}`, body, headers: { ...HEADERS, 'content-type': type, etag: strongEtag(body) } }]
  })

/** GET / and its assets, with a strong ETag (If-None-Match gets 304). */
export function dashboardRoutes(app: H3): void {
  for (const { path, body, headers } of FILES) {
    // Public: the page and its assets hold no data; the API calls they make carry the key.
    route(app, path, { GET: (event) => (etagMatches(event, headers.etag) ? reply(event, null, headers, 304) : reply(event, body, headers)) }, { public: true })
  }
}
