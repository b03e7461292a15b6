import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import type { RedisLink } from '../cache/redis.ts'
import { AppError } from '../http/errors.ts'
import { routeOf, routeTemplate } from '../http/route-of.ts'
import { isPromise } from '../maybe-promise.ts'
import { tallies } from '../observability/tallies.ts'
import { currentScope, runInScope } from '../request-scope.ts'
import { clientBucket } from './client-key.ts'
import { type Decision, Limiter } from './limiter.ts'
import { type LimitClass, type RateLimitSettings, routeClass, routeId, rulesFrom } from './rules.ts'
import { memoryCounterStore, redisCounterStore } from './store.ts'

/** A request refused by a limit, for an audit trail (the caller aggregates). */
export interface BlockedEvent {
  limitClass: LimitClass
  route: string
  clientIp: string
  subject?: string | undefined
}

export interface RateLimitOptions {
  settings: RateLimitSettings
  /** Shared counters; unset in the embedded default (per-process memory). */
  redis?: RedisLink | undefined
  /** Called on every refusal; it must not throw. */
  onBlocked?: (event: BlockedEvent) => void
  /** Route templates (`METHOD /url`) counted in the `expensive` class. */
  expensiveRoutes?: string[]
  /** Route templates never limited (probes, metrics scrapes). */
  exemptRoutes?: string[]
  now?: () => number
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The tightest limit decided so far, whose headers the response carries. */
    rateLimit: Decision | null
  }
}

function createMetrics(app: FastifyInstance) {
  const requests = new Counter({
    name: 'inkwell_ratelimit_requests_total',
    help: 'Requests checked by a rate limit, by class and outcome (allowed, limited)',
    labelNames: ['class', 'outcome'],
    registers: [app.metrics],
  })
  const fallback = new Counter({
    name: 'inkwell_ratelimit_fallback_total',
    help: 'Quota leases served by the per-instance fallback because Redis was unreachable',
    labelNames: ['class'],
    registers: [app.metrics],
  })
  const degraded = new Gauge({
    name: 'inkwell_ratelimit_degraded',
    help: '1 while Redis is configured but unreachable and limits are counted per instance',
    registers: [app.metrics],
  })
  return { requests, fallback, degraded }
}

function applyHeaders(reply: FastifyReply, d: Decision): void {
  reply.header('ratelimit-limit', String(d.limit))
  reply.header('ratelimit-remaining', String(d.remaining))
  reply.header('ratelimit-reset', String(d.resetS))
}

/** The tighter of two decisions: fewer requests left, then the later reset. */
function tighter(a: Decision | null, b: Decision): Decision {
  if (!a) return b
  if (b.remaining !== a.remaining) return b.remaining < a.remaining ? b : a
  return b.resetS > a.resetS ? b : a
}

/**
 * `ip` runs in onRequest, before authentication (register this plugin before it), for
 * every request including unknown routes; the per-user classes run in preHandler,
 * after it, and an admin (verified role claim only) skips them.
 */
export const rateLimitPlugin = fp<RateLimitOptions>(
  async (app, options) => {
    const { settings, redis } = options
    if (!settings.RATE_LIMIT_ENABLED) return
    const rules = rulesFrom(settings)
    const metrics = createMetrics(app)
    const limiter = new Limiter({
      shared: redis ? redisCounterStore(redis.client) : undefined,
      sharedUp: () => redis?.up ?? true,
      local: memoryCounterStore(),
      onFallback: (limitClass) => metrics.fallback.inc({ class: limitClass }),
      now: options.now,
    })
    if (redis) {
      metrics.degraded.set(redis.up ? 0 : 1)
      redis.on('up', () => metrics.degraded.set(0))
      redis.on('down', () => metrics.degraded.set(1))
    }
    const exempt = new Set(options.exemptRoutes ?? [])
    const expensive = new Set(
      (options.expensiveRoutes ?? []).map((r) => routeId(r.split(' ')[0]!, r.split(' ')[1] ?? '')),
    )
    app.decorateRequest('rateLimit', null)

    const checks = tallies(metrics.requests, ['class', 'outcome'])

    /** Takes a token; the error to fail the request with when the limit is reached. */
    function verdict(request: FastifyRequest, reply: FastifyReply, cls: LimitClass, d: Decision) {
      checks(cls, d.allowed ? 'allowed' : 'limited').inc()
      const shown = d.allowed ? tighter(request.rateLimit, d) : d
      // The headers of the tightest decision: written again only when it changed.
      if (shown !== request.rateLimit) {
        request.rateLimit = shown
        applyHeaders(reply, shown)
      }
      if (d.allowed) return undefined
      const route = routeTemplate(request)
      options.onBlocked?.({
        limitClass: cls,
        route,
        clientIp: request.ip,
        subject: request.principal?.subject,
      })
      return new AppError('rate_limited', `Rate limit of the ${cls} class reached; retry in ${d.resetS} s`, {
        headers: { 'retry-after': String(d.resetS) },
      })
    }

    // Callback style: while leased tokens last, take() answers without a promise.
    function enforce(
      request: FastifyRequest,
      reply: FastifyReply,
      cls: LimitClass,
      id: string,
      done: (err?: Error) => void,
    ) {
      const d = limiter.take(cls, rules[cls], id)
      if (isPromise(d)) d.then((taken) => done(verdict(request, reply, cls, taken)), done)
      else done(verdict(request, reply, cls, d))
    }

    app.addHook('onRequest', (request, reply, done) => {
      const route = routeOf(request).url
      if (route !== undefined && exempt.has(route)) done()
      else enforce(request, reply, 'ip', clientBucket(request.ip), done)
    })
    app.addHook('preHandler', (request, reply, done) => {
      const principal = request.principal
      // Routes without a template (404s) were counted by `ip` alone.
      const route = routeOf(request).url
      if (!principal || principal.isAdmin || route === undefined || exempt.has(route)) done()
      else {
        const cls = routeClass(request.method, route, expensive)
        // After a token's first verification (which awaits) this runs outside the
        // request's scope, and a lease's Redis command would lose its trace parent.
        const scope = request.requestScope
        if (scope === null || currentScope() === scope) enforce(request, reply, cls, principal.subject, done)
        else runInScope(scope, () => enforce(request, reply, cls, principal.subject, done))
      }
    })
  },
  { name: 'inkwell-rate-limit', dependencies: ['inkwell-metrics'] },
)
