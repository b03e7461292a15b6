import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { collectDefaultMetrics, type Metric, Registry } from 'prom-client'
import { routeTemplate } from '../http/route-of.ts'
import { accessLogger } from './access-log.ts'
import { RedMetrics } from './red-metrics.ts'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry
    /** Counts a request refused before routing (framework-errors.ts), as route `unparsed`. */
    countRefused(status: number, method?: string): void
  }
}

/** The URL without its query string (which may hold personal data), without an array made for it. */
export function pathOf(url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/**
 * RED metrics per route template (never the raw URL, which would explode label
 * cardinality), the process defaults (event-loop lag, heap, GC), and /metrics.
 * Each app has its own registry so several apps can live in one test process.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: { extra?: Metric[] }) => {
    const registry = new Registry()
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 })
    // Metrics owned outside the app (the secrets store's refresh counters).
    for (const metric of opts.extra ?? []) registry.registerMetric(metric)
    const red = new RedMetrics(
      registry,
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    )
    app.decorate('metrics', registry)
    app.decorate('countRefused', (status: number, method = '-') => red.count(method, 'unparsed', status))
    const access = accessLogger(app.log as Logger)
    app.addHook('onResponse', (request, reply, done) => {
      const route = routeTemplate(request)
      const elapsedMs = reply.elapsedTime
      red.record(request.method, route, reply.statusCode, elapsedMs / 1000)
      access({
        reqId: request.id,
        method: request.method,
        route,
        path: pathOf(request.url),
        status: reply.statusCode,
        durationMs: Math.round(elapsedMs * 100) / 100,
        ip: request.ip,
      })
      done()
    })

    app.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics (text exposition format)',
          response: {
            200: {
              description: 'Metrics in the Prometheus text format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      async (_request, reply) => {
        reply.type(registry.contentType)
        return registry.metrics()
      },
    )
  },
  { name: 'inkwell-metrics' },
)
