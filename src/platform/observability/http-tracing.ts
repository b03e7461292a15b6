import { SpanStatusCode } from '@opentelemetry/api'
import fp from 'fastify-plugin'
import { routeTemplate } from '../http/route-of.ts'
import type { Span, Tracing } from './tracing.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's server span, when tracing is on (the scope carries it to statements). */
    traceSpan: Span | undefined
  }
}

/**
 * A server span per request, named by method and route template, a child of the
 * caller's W3C `traceparent` when there is one. It carries the route, method, status
 * and request id, and nothing else of the request (no path, query, IP, user agent or
 * header), as the Sentry reports do. Registered only when tracing is on.
 */
export const httpTracingPlugin = fp<{ tracing: Tracing }>(
  async (app, { tracing }) => {
    if (!tracing.enabled) return
    app.decorateRequest('traceSpan', undefined)
    app.addHook('onRequest', (request, _reply, done) => {
      const route = routeTemplate(request)
      request.traceSpan = tracing.startServer(`${request.method} ${route}`, request.headers, {
        'http.request.method': request.method,
        'http.route': route,
        'inkwell.request_id': request.id,
      })
      done()
    })
    app.addHook('onResponse', (request, reply, done) => {
      const span = request.traceSpan
      if (span) {
        span.setAttribute('http.response.status_code', reply.statusCode)
        if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
        span.end()
      }
      done()
    })
  },
  { name: 'inkwell-http-tracing' },
)
