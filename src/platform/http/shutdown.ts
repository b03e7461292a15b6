import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

export interface ShutdownTimes {
  /** Readiness is 503 but requests are still served, so load balancers move away first. */
  drainMs: number
  /** Longest wait for in-flight requests once the listener is closed. */
  timeoutMs: number
}

/** Time closing the pools may take after the in-flight requests are done or cut. */
const CLOSE_POOLS_MS = 2000

/** The whole budget; past it the process is killed (close-with-grace's delay). */
export function shutdownBudgetMs(times: ShutdownTimes): number {
  return times.drainMs + times.timeoutMs + CLOSE_POOLS_MS
}

/**
 * 1. readiness turns 503 and every response says `Connection: close` (health.ts);
 * 2. for `drainMs` requests are still served: a load balancer needs a few probe
 *    intervals, and Kubernetes some time to update endpoints, before it stops
 *    sending new requests here;
 * 3. the listener closes and idle keep-alive connections are dropped; in-flight
 *    requests have `timeoutMs` to finish, after which their connections are cut;
 * 4. onClose hooks run: jobs stop, cache and database pools close.
 */
export async function shutDownGracefully(app: FastifyInstance, times: ShutdownTimes, log: Logger) {
  app.lifecycle.shuttingDown = true
  if (times.drainMs > 0) {
    log.info({ drainMs: times.drainMs }, 'draining: readiness is 503, still serving')
    await sleep(times.drainMs)
  }
  log.info({ timeoutMs: times.timeoutMs }, 'closing the listener; finishing in-flight requests')
  const cutOff = setTimeout(() => {
    log.warn('in-flight requests still running at SHUTDOWN_TIMEOUT_MS; closing their connections')
    app.server.closeAllConnections()
  }, times.timeoutMs)
  try {
    await app.close()
  } finally {
    clearTimeout(cutOff)
  }
  log.info('shut down cleanly')
}
