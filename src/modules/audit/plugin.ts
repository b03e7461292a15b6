import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { AppError } from '../../platform/http/errors.ts'
import { routeTemplate } from '../../platform/http/route-of.ts'
import { type AggregatedEvent, createAggregator } from './aggregate.ts'
import { auditKey } from './chain.ts'
import { canRewriteAuditLog } from './privileges.ts'
import { type AuditEvent, actorOf, recordAudit, SYSTEM, sourceOf } from './record.ts'
import { purgeExpired, sealPending, unsealedBacklog } from './seal.ts'

/** What other components (the rate limiter, admin tools) call. */
export interface AuditApi {
  record(event: AuditEvent): Promise<void>
  /** For attack signals (`auth.failed`, `ratelimit.blocked`): aggregated per source and window. */
  recordAggregated(event: AggregatedEvent): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditApi
  }
}

/** An unsealed row older than this is an alert (docs/audit-log.md). */
export const UNSEALED_ALERT_AGE_S = 60
const PURGE_EVERY_MS = 3_600_000

function registerGauges(app: FastifyInstance) {
  const { db } = app.ctx
  // One indexed query per gauge and scrape: the unsealed set is tiny when healthy.
  const backlog = () => unsealedBacklog(db)
  const gauge = (name: string, help: string, value: (b: { count: number; oldestAgeS: number }) => number) =>
    new Gauge({
      name,
      help,
      registers: [app.metrics],
      async collect() {
        try {
          this.set(value(await backlog()))
        } catch (err) {
          app.log.warn({ err }, 'audit backlog unavailable for metrics')
        }
      },
    })
  gauge(
    'inkwell_audit_unsealed_rows',
    'Audit rows committed but not yet sealed into the chain',
    (b) => b.count,
  )
  gauge('inkwell_audit_unsealed_oldest_seconds', 'Age of the oldest unsealed audit row', (b) => b.oldestAgeS)
  gauge(
    'inkwell_audit_unsealed_overdue',
    `1 when an unsealed audit row is older than ${UNSEALED_ALERT_AGE_S}s (alert)`,
    (b) => (b.oldestAgeS > UNSEALED_ALERT_AGE_S ? 1 : 0),
  )
}

function registerJobs(app: FastifyInstance, flush: () => Promise<void>) {
  const { ctx } = app
  const key = auditKey(ctx.config)
  // Flush before sealing on stop, so the last summaries are sealed too.
  ctx.jobs.register({
    name: 'audit.flush-aggregates',
    everyMs: ctx.config.AUDIT_AGGREGATE_WINDOW_S * 1000,
    // The aggregates live in this API process's memory: every process flushes its own.
    scope: 'process',
    runOnStop: true,
    handler: flush,
  })
  ctx.jobs.register({
    name: 'audit.seal',
    everyMs: ctx.config.AUDIT_SEAL_INTERVAL_MS,
    runOnStop: true,
    handler: async () => {
      await sealPending(ctx.db, key)
      const backlog = await unsealedBacklog(ctx.db)
      if (backlog.oldestAgeS > UNSEALED_ALERT_AGE_S)
        ctx.log.warn({ audit: false, ...backlog }, 'audit rows unsealed for over a minute')
    },
  })
  ctx.jobs.register({
    name: 'audit.purge',
    everyMs: PURGE_EVERY_MS,
    handler: async () => {
      await purgeExpired(ctx.db, key, ctx.config.AUDIT_RETENTION_DAYS, ctx.log)
    },
  })
}

/** Records denials and attack signals for every route, whatever module threw them. */
function registerHooks(app: FastifyInstance, api: AuditApi) {
  app.addHook('onError', async (request, _reply, error) => {
    if (!(error instanceof AppError)) return
    try {
      if (error.status === 403) await api.record(denial(request, error))
      if (error.status === 401)
        await api.recordAggregated({
          action: 'auth.failed',
          outcome: 'failed',
          clientIp: request.ip,
          reason: error.code,
          source: sourceOf(request),
        })
    } catch (err) {
      request.log.error({ err }, 'audit record failed')
    }
  })
  // Callback style: this runs for every response and acts on 429s alone.
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode !== 429) {
      done()
      return
    }
    const reason = routeTemplate(request)
    const actor = request.principal ? actorOf(request.principal) : undefined
    const event = {
      action: 'ratelimit.blocked',
      outcome: 'denied',
      clientIp: request.ip,
      reason,
      actor,
    } as const
    // With the app's own database handle (not the request's): the response is sent,
    // and the request's deadline must not cancel (or refuse) the audit write.
    api
      .recordAggregated({ ...event, source: sourceOf(request) })
      .catch((err) => request.log.error({ err }, 'audit record failed'))
      .then(() => done())
  })
}

function denial(request: FastifyRequest, error: AppError): AuditEvent {
  const route = routeTemplate(request)
  return {
    action: 'authz.denied',
    outcome: 'denied',
    actor: request.principal ? actorOf(request.principal) : { type: 'anonymous' },
    target: { type: 'route', id: `${request.method} ${route}` },
    details: { reason: error.message, params: request.params ?? {} },
    source: sourceOf(request),
  }
}

/** Mounted once, before authentication, so every request carries its source. */
export const auditPlugin = fp(
  async (app: FastifyInstance) => {
    const { ctx } = app
    const aggregator = createAggregator(ctx, ctx.config.AUDIT_AGGREGATE_WINDOW_S)
    const api: AuditApi = { record: (event) => recordAudit(ctx, event), recordAggregated: aggregator.record }
    app.decorate('audit', api)
    registerHooks(app, api)
    registerGauges(app)
    registerJobs(app, aggregator.flush)
    app.addHook('onReady', async () => {
      // Best effort: a database that is down at start must not keep the process from
      // starting (readiness reports it); the event is then only in the log.
      await api
        .record({
          action: 'config.loaded',
          actor: SYSTEM,
          // Names only: which provider and profile, never a value.
          details: {
            secretsProvider: ctx.config.SECRETS_PROVIDER,
            profile: ctx.config.NODE_ENV,
            database: ctx.database.kind,
            cache: ctx.cache.kind,
          },
        })
        .catch((err) => ctx.log.error({ err, audit: true, action: 'config.loaded' }, 'audit row not written'))
      if (ctx.database.kind !== 'postgres') return
      // The trigger alone does not stop a role that may disable it: say so at every start.
      const privileged = await canRewriteAuditLog(ctx.db).catch(() => false)
      if (privileged)
        ctx.log.warn(
          { audit: false, appRole: ctx.config.DATABASE_APP_ROLE },
          'connected to PostgreSQL as a role that can rewrite the audit log (owner or superuser); connect as DATABASE_APP_ROLE (docs/database.md "Roles and grants")',
        )
    })
  },
  { name: 'inkwell-audit', dependencies: ['inkwell-metrics'] },
)
