import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ScopedCache } from '../cache/scoped.ts'
import type { AppContext } from '../context.ts'
import { scopedDb } from '../db/scoped.ts'
import type { RequestScope } from '../request-scope.ts'

/** What a route hands its services: the app's context, with the request's scope and database handle. */
export interface RequestDeps extends AppContext {
  readonly scope: RequestScope
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The context for this request's services: `db` starts every statement under the
     * request's deadline and trace span (db/scoped.ts), `cache` sends its Redis commands
     * under the request's trace span while tracing is on (cache/scoped.ts), `scope`
     * names its source.
     * Made on first use; background work takes `app.ctx` instead, outside any request.
     */
    readonly deps: RequestDeps
  }
}

interface Made {
  scope: RequestScope
  scopedDb?: AppContext['db']
  scopedCache?: AppContext['cache']
}

/**
 * A request's deps inherit everything from the app's context (one object, no copy)
 * and hold only their scope; their database handle (and, while tracing, their cache
 * handle) is made when first asked for, so a request answered from the cache makes no
 * database handle.
 */
export function requestDepsFactory(ctx: AppContext): (scope: RequestScope) => RequestDeps {
  const shared = Object.create(ctx, {
    db: {
      get(this: Made) {
        this.scopedDb ??= scopedDb(ctx.db, this.scope)
        return this.scopedDb
      },
    },
    // Redis commands read the scope only for their trace parent: without tracing, the
    // request uses the shared cache itself (scoped.ts).
    ...(ctx.tracing.enabled && {
      cache: {
        get(this: Made) {
          this.scopedCache ??= new ScopedCache(ctx.cache, this.scope)
          return this.scopedCache
        },
      },
    }),
  }) as object
  return (scope) => {
    const deps = Object.create(shared) as Made
    deps.scope = scope
    return deps as unknown as RequestDeps
  }
}

const DEPS = Symbol('request deps')

/** `request.deps`, made once per request that asks (after the deadline plugin gave it a scope). */
export const requestDepsPlugin = fp(
  async (app: FastifyInstance) => {
    const make = requestDepsFactory(app.ctx)
    app.decorateRequest(DEPS as unknown as string, null)
    app.decorateRequest('deps', {
      getter(this: FastifyRequest) {
        const request = this as FastifyRequest & { [DEPS]: RequestDeps | null }
        request[DEPS] ??= make(request.requestScope)
        return request[DEPS]
      },
    })
  },
  { name: 'inkwell-request-deps', dependencies: ['inkwell-deadline'] },
)
