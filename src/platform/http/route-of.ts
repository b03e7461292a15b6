import type { FastifyInstance, FastifyRequest } from 'fastify'

type RouteOptions = FastifyRequest['routeOptions']

const ROUTE = Symbol('inkwell.routeOptions')

/**
 * `request.routeOptions`, read once per request. Fastify 5 builds that object anew on
 * every read (a dozen fields and a router lookup), and the hooks of one request (rate
 * limits, deadline, metrics, audit, validation) read it about six times.
 */
/**
 * Gives every request the slot routeOf fills, from its construction: a property added
 * later changes the request object's shape mid-request, and Fastify's own property
 * reads on requests then see two shapes instead of one.
 */
export function reserveRouteSlot(app: FastifyInstance): void {
  app.decorateRequest(ROUTE, null)
}

export function routeOf(request: FastifyRequest): Readonly<RouteOptions> {
  const held = request as unknown as { [ROUTE]?: RouteOptions | null }
  held[ROUTE] ??= request.routeOptions
  return held[ROUTE]
}

/** The route template a request matched, as metrics, logs and audit rows name it. */
export const routeTemplate = (request: FastifyRequest): string => routeOf(request).url ?? 'unmatched'
