import { tmpdir } from 'node:os'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import type { Config } from '../../config/schema.ts'
import type { Cache } from '../cache/cache.ts'
import type { Database } from '../db/database.ts'
import { type CheckResults, createReadiness, readinessChecks } from './readiness.ts'

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: { shuttingDown: boolean }
  }
}

export interface HealthOptions {
  database: Database
  cache: Cache
  config: Pick<Config, 'DATA_DIR' | 'READY_CHECK_TIMEOUT_MS' | 'READY_CACHE_MS' | 'READY_MIN_FREE_DISK_BYTES'>
}

const Check = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('failed')]),
  latencyMs: Type.Integer(),
  error: Type.Optional(Type.String()),
})

const Readiness = Type.Object({
  status: Type.Union(['ready', 'degraded', 'not_ready', 'shutting_down'].map((s) => Type.Literal(s))),
  checks: Type.Record(Type.String(), Check),
})

function overallStatus(checks: CheckResults): 'ready' | 'degraded' | 'not_ready' {
  const statuses = Object.values(checks).map((c) => c.status)
  if (statuses.includes('failed')) return 'not_ready'
  return statuses.includes('degraded') ? 'degraded' : 'ready'
}

/**
 * Liveness (the process serves: never a dependency, or an outage would restart
 * every replica at once) and readiness (this instance should get traffic now).
 */
export const healthPlugin = fp<HealthOptions>(
  async (app: FastifyInstance, { database, cache, config }) => {
    app.decorate('lifecycle', { shuttingDown: false })
    const evaluate = createReadiness(
      readinessChecks({
        database,
        cache,
        dataDir: config.DATA_DIR,
        tempDir: tmpdir(),
        minFreeDiskBytes: config.READY_MIN_FREE_DISK_BYTES,
      }),
      { timeoutMs: config.READY_CHECK_TIMEOUT_MS, cacheMs: config.READY_CACHE_MS },
    )

    // Once shutting down, every response closes its connection, so keep-alive
    // clients (a load balancer's pool, a Service's long-lived connections) reconnect
    // to another instance instead of finding this one gone mid-request.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (app.lifecycle.shuttingDown) reply.header('connection', 'close')
      done(null, payload)
    })

    app.get(
      '/healthz',
      {
        schema: {
          tags: ['health'],
          summary: 'Liveness: the process answers HTTP (no dependency is checked)',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async (_request, reply) => {
        reply.header('cache-control', 'no-store')
        return { status: 'ok' as const }
      },
    )

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['health'],
          summary: 'Readiness: database, migrations, disk, cache (degraded only) and not shutting down',
          response: { 200: Readiness, 503: Readiness },
        },
      },
      async (_request, reply) => {
        reply.header('cache-control', 'no-store')
        // Answered before any check runs: the load balancer must see this at once.
        if (app.lifecycle.shuttingDown) {
          reply.code(503)
          return { status: 'shutting_down', checks: { shutdown: { status: 'failed', latencyMs: 0 } } }
        }
        const checks = { ...(await evaluate()), shutdown: { status: 'ok' as const, latencyMs: 0 } }
        const status = app.lifecycle.shuttingDown ? 'shutting_down' : overallStatus(checks)
        reply.code(status === 'ready' || status === 'degraded' ? 200 : 503)
        return { status, checks }
      },
    )
  },
  { name: 'inkwell-health' },
)
