import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { collectDefaultMetrics, type Metric, Registry } from 'prom-client'
import type { Database } from '../db/database.ts'
import type { Jobs } from './index.ts'
import { createQueueGauge } from './metrics.ts'

export interface Monitor {
  port: number
  close(): Promise<void>
}

/**
 * The worker's own HTTP port: /metrics (queue depth per state, job durations,
 * failures, process metrics) for Prometheus and KEDA, /healthz for the kubelet.
 */
export async function startMonitor(
  jobs: Jobs,
  database: Pick<Database, 'ping'>,
  options: { host: string; port: number; extra?: Metric[] },
  log: Logger,
): Promise<Monitor> {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  for (const metric of [...jobs.metrics, ...(options.extra ?? [])]) registry.registerMetric(metric)
  if (jobs.queueCounts) createQueueGauge([registry], jobs.queueCounts)
  let closing = false

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(body)
    }
    if (path === '/metrics') {
      registry
        .metrics()
        .then((body) => send(200, registry.contentType, body))
        .catch((err) => {
          log.warn({ err }, 'metrics unavailable')
          send(503, 'text/plain', 'metrics unavailable\n')
        })
      return
    }
    if (path === '/healthz') {
      // Redis and the database are what a worker cannot work without.
      Promise.all([jobs.ping(), database.ping()])
        .then(() =>
          send(
            closing ? 503 : 200,
            'application/json',
            JSON.stringify({ status: closing ? 'stopping' : 'ok' }),
          ),
        )
        .catch((err) =>
          send(
            503,
            'application/json',
            JSON.stringify({ status: 'unavailable', error: String(err?.message ?? err) }),
          ),
        )
      return
    }
    send(404, 'text/plain', 'not found\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, resolve)
  })
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      closing = true
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
