import { SpanKind } from '@opentelemetry/api'
import pg from 'pg'
import type { Logger } from 'pino'
import { Gauge, Histogram, type Metric } from 'prom-client'
import { endSpan, type Span, type Tracing, tracingOff } from '../observability/tracing.ts'
import { currentScope } from '../request-scope.ts'

export interface PoolSettings {
  DB_POOL_MAX: number
  DB_CONNECT_TIMEOUT_MS: number
  DB_IDLE_TIMEOUT_MS: number
  DB_MAX_LIFETIME_S: number
  DB_STATEMENT_TIMEOUT_MS: number
  DB_IDLE_IN_TX_TIMEOUT_MS: number
  DB_APPLICATION_NAME: string
  DB_STARTUP_PARAMETERS: boolean
  DB_SLOW_QUERY_MS: number
}

export type PoolConnection = Pick<pg.PoolConfig, 'connectionString' | 'password'> & {
  /** Told when PostgreSQL refuses a new connection's password (28P01): a rotation is under way. */
  onPasswordRefused?: (() => void) | undefined
}

/** One statement's SQL text, without its parameter values (which may hold personal data). */
function statementText(config: unknown): string {
  const text = typeof config === 'string' ? config : (config as { text?: string } | undefined)?.text
  return (text ?? '').replace(/\s+/g, ' ').trim().slice(0, 1000)
}

/** The statement's first keyword (SELECT, INSERT, BEGIN…): a span's name, without data. */
function operationOf(text: string): string {
  return /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL'
}

/**
 * A pg.Client that logs statements slower than DB_SLOW_QUERY_MS and, in a traced
 * request, makes each statement a child span of the request's (its SQL text, never
 * its parameter values).
 */
function instrumentedClientClass(
  slowMs: number,
  log: Logger,
  role: string,
  tracing: Pick<Tracing, 'enabled' | 'startChild'>,
): typeof pg.Client {
  if (slowMs <= 0 && !tracing.enabled) return pg.Client
  const finish = (config: unknown, started: number, span: Span | undefined, err: unknown) => {
    endSpan(span, err)
    if (slowMs <= 0) return
    const durationMs = Math.round(performance.now() - started)
    if (durationMs >= slowMs)
      log.warn({ durationMs, pool: role, statement: statementText(config) }, 'slow query')
  }
  const startSpan = (config: unknown) => {
    const parent = tracing.enabled ? currentScope()?.request?.traceSpan : undefined
    if (!parent) return undefined
    const text = statementText(config)
    const operation = operationOf(text)
    return tracing.startChild(parent, operation, SpanKind.CLIENT, {
      'db.system.name': 'postgresql',
      'db.query.text': text,
      'db.operation.name': operation,
      'inkwell.db.pool': role,
    })
  }
  return class InstrumentedClient extends pg.Client {
    // biome-ignore lint/suspicious/noExplicitAny: pg's query() has a dozen overloads; this forwards them all.
    override query(config: any, values?: any, callback?: any): any {
      const started = performance.now()
      const span = startSpan(config)
      // pg-pool calls the callback form; drizzle and our own code the promise form.
      if (typeof values === 'function' || typeof callback === 'function') {
        const cb = typeof values === 'function' ? values : callback
        const timed = (err: unknown, res: unknown) => {
          finish(config, started, span, err)
          cb(err, res)
        }
        return typeof values === 'function' ? super.query(config, timed) : super.query(config, values, timed)
      }
      const result: unknown = super.query(config, values)
      if (result instanceof Promise)
        void result.then(
          () => finish(config, started, span, undefined),
          (err: unknown) => finish(config, started, span, err),
        )
      return result
    }
  }
}

/**
 * A client class that tells `onRefused` when PostgreSQL refuses its password. Only
 * opening a connection goes through here (pg-pool's callback form), not statements.
 */
function reportingRefusedPasswords(Base: typeof pg.Client, onRefused: () => void): typeof pg.Client {
  const check = (err: unknown) => {
    if ((err as { code?: unknown } | undefined)?.code === '28P01') onRefused()
  }
  return class PasswordWatchingClient extends Base {
    // biome-ignore lint/suspicious/noExplicitAny: pg's connect() has a callback and a promise form.
    override connect(callback?: (...args: any[]) => void): any {
      if (callback)
        return super.connect((err: Error | null, ...rest: unknown[]) => {
          check(err)
          callback(err, ...rest)
        })
      return super.connect().catch((err: unknown) => {
        check(err)
        throw err
      })
    }
  }
}

/**
 * Times every checkout, both the promise form (transactions) and the callback form
 * pg-pool's own query() uses, into the acquire-wait histogram.
 */
function timeCheckouts(pool: pg.Pool, histogram: Histogram<'pool'>, role: string): void {
  const connect = pool.connect.bind(pool)
  // This pool's series, resolved once: prom-client hashes a label object on every call.
  const waits = histogram.labels({ pool: role })
  pool.connect = ((
    callback?: (err: Error | undefined, client?: pg.PoolClient, done?: () => void) => void,
  ) => {
    const stop = waits.startTimer()
    if (typeof callback === 'function') {
      return connect((err, client, done) => {
        stop()
        callback(err, client, done)
      })
    }
    return connect().finally(stop)
  }) as typeof pool.connect
}

/**
 * Pool metrics, one set for all of a process's pools, labelled by pool role: total,
 * idle and waiting clients (read at scrape time) and the checkout wait histogram.
 */
export function createPoolMetrics() {
  const pools = new Map<string, pg.Pool>()
  const gauge = (name: string, help: string, read: (pool: pg.Pool) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers: [],
      collect() {
        for (const [role, pool] of pools) this.set({ pool: role }, read(pool))
      },
    })
  const acquire = new Histogram({
    name: 'db_pool_acquire_seconds',
    help: 'Time spent waiting for a pool connection',
    labelNames: ['pool'],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [],
  })
  const metrics: Metric[] = [
    gauge('db_pool_connections', 'Open pool connections', (p) => p.totalCount),
    gauge('db_pool_idle_connections', 'Idle pool connections', (p) => p.idleCount),
    gauge('db_pool_waiting_clients', 'Requests queued for a pool connection', (p) => p.waitingCount),
    acquire,
  ]
  return {
    metrics,
    watch(pool: pg.Pool, role: string) {
      pools.set(role, pool)
      timeCheckouts(pool, acquire, role)
    },
  }
}

/**
 * A pg Pool configured from settings: bounded waits, retired connections, and
 * slow-query logging. `role` names it in metrics and logs ("primary", "replica").
 */
export function createPool(
  connection: PoolConnection,
  settings: PoolSettings,
  log: Logger,
  role = 'primary',
  tracing: Pick<Tracing, 'enabled' | 'startChild'> = tracingOff,
): pg.Pool {
  const startupTimeouts = settings.DB_STARTUP_PARAMETERS
    ? {
        statement_timeout: settings.DB_STATEMENT_TIMEOUT_MS || undefined,
        idle_in_transaction_session_timeout: settings.DB_IDLE_IN_TX_TIMEOUT_MS || undefined,
      }
    : {}
  const { onPasswordRefused, ...clientConnection } = connection
  const timed = instrumentedClientClass(settings.DB_SLOW_QUERY_MS, log, role, tracing)
  const pool = new pg.Pool({
    ...clientConnection,
    ...startupTimeouts,
    max: settings.DB_POOL_MAX,
    // Bounds both opening a connection and queueing for one: an exhausted pool fails fast.
    connectionTimeoutMillis: settings.DB_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: settings.DB_IDLE_TIMEOUT_MS,
    maxLifetimeSeconds: settings.DB_MAX_LIFETIME_S,
    application_name: settings.DB_APPLICATION_NAME,
    Client: onPasswordRefused ? reportingRefusedPasswords(timed, onPasswordRefused) : timed,
  })
  // An idle client's error (backend killed, failover) must never crash the process;
  // the pool drops that client and the next checkout opens a fresh connection.
  pool.on('error', (err) => log.warn({ err, pool: role }, 'idle PostgreSQL connection failed'))
  // pg-pool listens for errors only while a client sits idle in the pool. A client
  // checked out between two statements of a transaction has no listener, and a
  // backend killed right then (failover, pgbouncer's "server conn crashed?") would be
  // an uncaught exception. Its next statement fails and the pool discards it.
  pool.on('connect', (client) => {
    client.on('error', (err) => log.warn({ err, pool: role }, 'PostgreSQL connection failed'))
  })
  return pool
}
