import { getHeapStatistics } from 'node:v8'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyPluginCallback, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import type { Config } from '../../config/schema.ts'
import { AppError } from './errors.ts'
import { registerGated } from './gated-plugin.ts'
import { routeOf } from './route-of.ts'

export type SheddingSettings = Pick<
  Config,
  | 'SHED_MAX_EVENT_LOOP_DELAY_MS'
  | 'SHED_MAX_HEAP_USED_RATIO'
  | 'SHED_MAX_RSS_BYTES'
  | 'SHED_SAMPLE_INTERVAL_MS'
  | 'SHED_RETRY_AFTER_S'
>

/**
 * Probes and scrapes must keep answering under overload: a load balancer that
 * cannot read /readyz takes the instance out (it is still alive), and the metrics
 * explaining the overload are most wanted right then.
 */
const EXEMPT_ROUTES = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * Past an event-loop delay or memory threshold, new requests are refused at once
 * with 503 `service_unavailable` and `Retry-After`, so the requests already
 * admitted finish in time instead of everyone slowing down together. Sampling is
 * @fastify/under-pressure's (mean event-loop delay over each sample interval).
 */
export const loadSheddingPlugin = fp<{ settings: SheddingSettings }>(
  async (app: FastifyInstance, { settings }) => {
    const shed = new Counter({
      name: 'http_requests_shed_total',
      help: 'Requests refused with 503 because the process was overloaded, by the threshold crossed',
      labelNames: ['reason'] as const,
      registers: [app.metrics],
    })
    const retryAfter = String(settings.SHED_RETRY_AFTER_S)
    // The first samples measure startup (opening the database, compiling schemas),
    // not load; a sample that saw the loop blocked throughout reads as an infinite
    // delay. Shedding starts once two samples of the serving process are in.
    let armed = false
    app.addHook('onReady', async () => {
      setTimeout(() => {
        armed = true
      }, 2 * settings.SHED_SAMPLE_INTERVAL_MS).unref()
    })
    // Its hook reads `request.routeOptions` (built anew on every read) before checking
    // anything; its checks are the flags `isUnderPressure` reads, so the hook runs only
    // while one of them is set (its pressure handler then refuses or admits the request).
    const underPressureOptions = {
      maxEventLoopDelay: settings.SHED_MAX_EVENT_LOOP_DELAY_MS,
      // The heap threshold follows the V8 limit (--max-old-space-size), so it stays right
      // whatever memory the container is given.
      maxHeapUsedBytes: Math.floor(getHeapStatistics().heap_size_limit * settings.SHED_MAX_HEAP_USED_RATIO),
      maxRssBytes: settings.SHED_MAX_RSS_BYTES,
      sampleInterval: settings.SHED_SAMPLE_INTERVAL_MS,
      pressureHandler: (request: FastifyRequest, _reply: unknown, type: string) => {
        if (!armed || EXEMPT_ROUTES.has(routeOf(request).url ?? '')) return undefined
        shed.inc({ reason: type })
        return Promise.reject(
          new AppError('service_unavailable', 'The server is overloaded; retry later', {
            headers: { 'retry-after': retryAfter },
          }),
        )
      },
    }
    await registerGated(
      app,
      underPressure as unknown as FastifyPluginCallback<typeof underPressureOptions>,
      underPressureOptions,
      () => app.isUnderPressure(),
    )
  },
  { name: 'inkwell-load-shedding', dependencies: ['inkwell-metrics'] },
)
