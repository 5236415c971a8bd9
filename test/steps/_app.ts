import { H3 } from 'h3'
import type { H3Event } from 'h3'
import { renderError } from '../../src/dialects/errors.ts'
import { route } from '../../src/dialects/internal/methods.ts'
import type { RouteOptions } from '../../src/dialects/internal/methods.ts'

/** A small app running one step before its routes, as createApp runs them: `/open`, `/public`, `/admin`, `/writes`. */
export function stepApp(step: (event: H3Event) => Response | void | undefined, routes: Record<string, RouteOptions> = { '/open': {}, '/public': { public: true }, '/admin': { admin: 'all' }, '/writes': { admin: 'writes' } }) {
  const app = new H3({ silent: true })
  app.use(async (event, next) => {
    try {
      return step(event) ?? (await next())
    } catch (error) {
      return renderError(error, event)
    }
  })
  for (const [path, options] of Object.entries(routes)) route(app, path, { GET: (event) => ({ ok: true, headers: event.context.headers ?? {} }), POST: () => ({ ok: true }) }, options)
  return (path: string, init?: RequestInit) => Promise.resolve(app.fetch(new Request(`http://step.test${path}`, init)))
}
