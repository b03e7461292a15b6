import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import { Deadline } from '../deadline.ts'
import { type RequestScope, runInScope } from '../request-scope.ts'
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

/**
 * Every request runs under a deadline, from routing to the last byte: REQUEST_TIMEOUT_MS,
 * or the route's `config.timeoutMs`. At the deadline the client gets a 503 `timeout`
 * problem, `request.deadline` aborts (cancelling the request's database statements,
 * see statement-signal.ts), and whatever the handler produces later is dropped.
 *
 * Fastify 5.12's own `handlerTimeout` is not used: it listens to the request's
 * 'close', which Node emits as soon as a body has been read, so for every request
 * with a body it aborts `request.signal` at once and clears its own timer
 * (fastify/fastify#6725). Here a client is gone only when the response closes unfinished.
 */
export const deadlinePlugin = fp<{ timeoutMs: number }>(
  async (app: FastifyInstance, options) => {
    const timeouts = new Counter({
      name: 'http_request_timeouts_total',
      help: 'Requests answered 503 timeout because their deadline passed, by route template',
      labelNames: ['method', 'route'] as const,
      registers: [app.metrics],
    })
    const responding = new WeakSet<FastifyRequest>()

    const expire = (request: FastifyRequest, reply: FastifyReply, deadline: Deadline, ms: number) => {
      // A response already on its way (onSend running, or sent) is left alone.
      if (reply.sent || responding.has(request)) return
      const error = new AppError('timeout', `No response within ${ms} ms`)
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

    app.decorateRequest('requestScope', null as unknown as RequestScope)
    // An AbortSignal only for the handlers that ask for one (see Deadline).
    app.decorateRequest('deadline', {
      getter(this: FastifyRequest) {
        return this.requestScope.deadline.signal
      },
    })
    app.addHook('onRequest', (request, reply, done) => {
      const ms = routeOf(request).config?.timeoutMs ?? options.timeoutMs
      const deadline = new Deadline()
      request.requestScope = { deadline, request }
      const timer = setTimeout(expire, ms, request, reply, deadline, ms)
      reply.raw.once('close', () => {
        clearTimeout(timer)
        if (!reply.raw.writableFinished) deadline.abort(new DOMException('client went away', 'AbortError'))
      })
      runInScope(request.requestScope, done)
    })
    // Body parsing resumes from socket events, outside the scope entered above.
    app.addHook('preValidation', (request, _reply, done) => runInScope(request.requestScope, done))
    app.addHook('onSend', (request, _reply, payload, done) => {
      responding.add(request)
      done(null, payload)
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

/** Wraps an async handler so that what it produces after its 503 went out is dropped. */
function discardingLateResults(handler: RouteHandlerMethod): RouteHandlerMethod {
  return function (this: FastifyInstance, request, reply) {
    const result: unknown = handler.call(this, request, reply)
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
