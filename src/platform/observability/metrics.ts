import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { Counter, collectDefaultMetrics, Histogram, type Metric, Registry } from 'prom-client'
import { routeTemplate } from '../http/route-of.ts'
import { accessLogger } from './access-log.ts'
import { labelChildren } from './label-children.ts'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry
    /** Counts a request refused before routing (framework-errors.ts), as route `unparsed`. */
    countRefused(status: number, method?: string): void
  }
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
    const labelNames = ['method', 'route', 'status'] as const
    const requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route template and status',
      labelNames,
      registers: [registry],
    })
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route template and status',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    })
    app.decorate('metrics', registry)

    // The children of each (method, route template, status), resolved once.
    const childrenOf = labelChildren((method, route, status) => {
      const labels = { method, route, status }
      return { count: requests.labels(labels), time: duration.labels(labels) }
    })
    app.decorate('countRefused', (status: number, method = '-') =>
      childrenOf(method, 'unparsed', String(status)).count.inc(),
    )
    const access = accessLogger(app.log as Logger)
    app.addHook('onResponse', (request, reply, done) => {
      const route = routeTemplate(request)
      const child = childrenOf(request.method, route, String(reply.statusCode))
      child.count.inc()
      child.time.observe(reply.elapsedTime / 1000)
      access({
        reqId: request.id,
        method: request.method,
        route,
        path: request.url.split('?')[0]!,
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
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
