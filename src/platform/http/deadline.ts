import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import { Deadline } from '../deadline.ts'
import { type RequestScope, runInScope } from '../request-scope.ts'
import { SlotList, type Slotted } from '../slot-list.ts'
import { AppError } from './errors.ts'
import { routeOf, routeTemplate } from './route-of.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Aborts when the request's deadline passes or its client goes away. Database
     * statements issued while handling the request are cancelled with it; pass it
     * to `fetch` and other cancellable calls.
     */
    readonly deadline: AbortSignal
    /** The request's deadline and source, carried to the code it calls (request-scope.ts). */
    requestScope: RequestScope
  }
  interface FastifyContextConfig {
    /** This route's deadline in ms, instead of REQUEST_TIMEOUT_MS. */
    timeoutMs?: number
  }
}

/** How often in-flight requests are checked for a passed deadline or a vanished client. */
export const DEADLINE_SWEEP_MS = 25

/** A request in flight: its scope, and what the sweep needs to answer or abort it. */
interface InFlight extends RequestScope, Slotted {
  readonly request: FastifyRequest
  readonly reply: FastifyReply
  readonly expiresAt: number
  readonly timeoutMs: number
  /** onSend has begun: the response is on its way and the deadline leaves it alone. */
  responding: boolean
}

/**
 * Every request runs under a deadline, from routing to the last byte: REQUEST_TIMEOUT_MS,
 * or the route's `config.timeoutMs`. At the deadline the client gets a 503 `timeout`
 * problem, `request.deadline` aborts (cancelling the request's database statements,
 * see statement-signal.ts), and whatever the handler produces later is dropped.
 *
 * One sweep every DEADLINE_SWEEP_MS checks the requests in flight, rather than a timer
 * and a 'close' listener per request: with the request scope's async hooks on, each
 * Timeout and listener cost more than the rest of the deadline's work (callgrind: the
 * deadline was about an eighth of a cached read's instructions). A deadline is thus
 * met within DEADLINE_SWEEP_MS, and a client that went away (its socket closed before
 * the response finished) aborts the deadline within the same bound.
 *
 * Fastify 5.12's own `handlerTimeout` is not used: it listens to the request's
 * 'close', which Node emits as soon as a body has been read, so for every request
 * with a body it aborts `request.signal` at once and clears its own timer
 * (fastify/fastify#6725). Here a client is gone only when the socket closes with the
 * response unfinished.
 */
export const deadlinePlugin = fp<{ timeoutMs: number }>(
  async (app: FastifyInstance, options) => {
    const timeouts = new Counter({
      name: 'http_request_timeouts_total',
      help: 'Requests answered 503 timeout because their deadline passed, by route template',
      labelNames: ['method', 'route'] as const,
      registers: [app.metrics],
    })
    // Not a Set: see slot-list.ts (a Set churned by every request kept requests alive).
    const inFlight = new SlotList<InFlight>()
    let sweeper: NodeJS.Timeout | undefined

    const expire = (entry: InFlight) => {
      const { request, reply, deadline, timeoutMs } = entry
      // A response already on its way (onSend running, or sent) is left alone.
      if (reply.sent || entry.responding) return
      const error = new AppError('timeout', `No response within ${timeoutMs} ms`)
      deadline.abort(error)
      timeouts.inc({ method: request.method, route: routeTemplate(request) })
      // Runs from a timer: a throw here would be an uncaught exception.
      try {
        if (reply.raw.headersSent) reply.raw.destroy(error)
        else reply.send(error)
      } catch (err) {
        request.log.error({ err }, 'could not answer a timed-out request')
        reply.raw.destroy()
      }
    }

    const sweepOne = (entry: InFlight, now: number) => {
      const raw = entry.reply.raw
      if (raw.writableFinished) inFlight.delete(entry)
      else if (raw.destroyed || raw.socket?.destroyed) {
        inFlight.delete(entry)
        entry.deadline.abort(new DOMException('client went away', 'AbortError'))
      } else if (now >= entry.expiresAt) {
        inFlight.delete(entry)
        expire(entry)
      }
    }

    const sweep = () => {
      const now = performance.now()
      inFlight.forEach(sweepOne, now)
      if (inFlight.size === 0) {
        clearInterval(sweeper)
        sweeper = undefined
      }
    }

    app.decorateRequest('requestScope', null as unknown as RequestScope)
    // An AbortSignal only for the handlers that ask for one (see Deadline).
    app.decorateRequest('deadline', {
      getter(this: FastifyRequest) {
        return this.requestScope.deadline.signal
      },
    })
    app.addHook('onRequest', (request, reply, done) => {
      const timeoutMs = routeOf(request).config?.timeoutMs ?? options.timeoutMs
      const entry: InFlight = {
        deadline: new Deadline(),
        request,
        reply,
        expiresAt: performance.now() + timeoutMs,
        timeoutMs,
        responding: false,
        slot: -1,
      }
      request.requestScope = entry
      inFlight.add(entry)
      sweeper ??= setInterval(sweep, DEADLINE_SWEEP_MS).unref()
      // The hooks that follow without an await (rate limiting, authentication) run in
      // the scope (a Redis lease's trace parent); the handler enters it again itself.
      // Statements need neither: they go through request.deps (request-deps.ts).
      runInScope(entry, done)
    })
    app.addHook('onSend', (request, _reply, payload, done) => {
      const entry = request.requestScope as InFlight | null
      if (entry) entry.responding = true
      done(null, payload)
    })
    app.addHook('onResponse', (request, _reply, done) => {
      const entry = request.requestScope as InFlight | null
      if (entry) inFlight.delete(entry)
      done()
    })
    app.addHook('onClose', async () => {
      clearInterval(sweeper)
      sweeper = undefined
    })
    app.addHook('onRoute', (route) => {
      route.handler = discardingLateResults(route.handler)
    })
  },
  { name: 'inkwell-deadline', dependencies: ['inkwell-metrics'] },
)

function isTimedOut(request: FastifyRequest, reply: FastifyReply): boolean {
  return reply.sent && request.requestScope?.deadline.aborted === true
}

/**
 * Wraps a handler so that it starts inside its request's scope (what it does before
 * its first await: a Redis command's trace parent, see request-scope.ts), and so that
 * what it produces after its 503 went out is dropped.
 */
function discardingLateResults(handler: RouteHandlerMethod): RouteHandlerMethod {
  return function (this: FastifyInstance, request, reply) {
    const result: unknown = runInScope(request.requestScope, () => handler.call(this, request, reply))
    if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') return result
    return Promise.resolve(result).then(
      (value) => (isTimedOut(request, reply) ? undefined : value),
      (err) => {
        if (isTimedOut(request, reply)) {
          request.log.debug({ err }, 'late failure after the deadline discarded')
          return undefined
        }
        throw err
      },
    )
  }
}
