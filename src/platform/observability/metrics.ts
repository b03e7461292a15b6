import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, collectDefaultMetrics, Histogram, type Metric, Registry } from 'prom-client'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry
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

    app.addHook('onResponse', async (request, reply) => {
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      }
      requests.inc(labels)
      duration.observe(labels, reply.elapsedTime / 1000)
      request.log.info(
        {
          method: request.method,
          route: labels.route,
          path: request.url.split('?')[0],
          status: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime * 100) / 100,
          ip: request.ip,
        },
        'request completed',
      )
    })

    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      reply.type(registry.contentType)
      return registry.metrics()
    })
  },
  { name: 'inkwell-metrics' },
)
