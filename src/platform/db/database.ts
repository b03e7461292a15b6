import { AsyncLocalStorage } from 'node:async_hooks'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { Logger as DrizzleLogger } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import type pg from 'pg'
import type { Logger } from 'pino'
import type { Metric } from 'prom-client'
import { postgresConnection, postgresConnectionString } from '../../config/database-url.ts'
import type { Config } from '../../config/schema.ts'
import type { Tracing } from '../observability/tracing.ts'
import type { RequestScope } from '../request-scope.ts'
import { type DataDirLock, lockDataDir } from './data-dir-lock.ts'
import { isDatabaseUnavailable } from './errors.ts'
import { createPool, createPoolMetrics, type PoolConnection, type PoolSettings } from './postgres-pool.ts'
import { useNamedStatements } from './prepared.ts'
import { scopedDb } from './scoped.ts'
import { cancelOnSignal, refuseAfterAbort } from './statement-signal.ts'

/** The query interface every module uses; identical on PGlite and PostgreSQL. */
export type Db = PgDatabase<PgQueryResultHKT>
/** A transaction handle; accepted wherever a Db is. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
export type DbOrTx = Db | Tx

/** Runs plain (multi-statement) SQL on one connection; returns the last statement's rows. */
export type ScriptRunner = (text: string) => Promise<Record<string, unknown>[]>

export interface Database {
  readonly kind: 'pglite' | 'postgres'
  readonly db: Db
  /** True when this process created a brand-new embedded store (demo seeding uses it). */
  readonly freshlyCreated: boolean
  /** Runs `fn` in one transaction on one connection, with plain SQL allowed. */
  withScriptTransaction<T>(fn: (run: ScriptRunner) => Promise<T>): Promise<T>
  ping(): Promise<void>
  /**
   * Counts the statements `fn` issues through `db`, itself and through the work it
   * starts (tests use it to catch N+1). Timers and jobs started elsewhere (the audit
   * sealer, the outbox relay's interval) run outside `fn`'s async context and do
   * not count.
   */
  countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }>
  /**
   * Runs a read-only query on the read replica when one is configured, and on the
   * primary when there is none or it cannot be reached. Never for reads that must
   * see the caller's own writes. With a request's `scope`, the query runs under its
   * deadline (scoped.ts) on either.
   */
  read<T>(query: (db: Db) => Promise<T>, scope?: RequestScope): Promise<T>
  /**
   * Test-only fault injection: `hook` sees every statement's SQL before it runs and
   * may throw to fail it. Refused in production.
   */
  setStatementHook(hook: StatementHook | null): void
  /** Pool metrics for the app's registry. */
  readonly metrics: Metric[]
  close(): Promise<void>
}

export interface DatabaseSettings extends PoolSettings {
  NODE_ENV?: Config['NODE_ENV']
  DATABASE_URL?: string | undefined
  DATABASE_READ_URL?: string | undefined
  DATABASE_SSL?: Config['DATABASE_SSL']
  DB_PREPARED_STATEMENTS?: boolean
  DATA_DIR: string
  /**
   * The current password, asked on every new connection (secrets rotation); wins over
   * the URL's. Its `refused`, if any, is called when PostgreSQL refuses it (28P01).
   */
  databasePassword?: ((() => Promise<string>) & { refused?: () => void }) | undefined
  /** Statements of traced requests become spans (observability/tracing.ts). */
  tracing?: Pick<Tracing, 'enabled' | 'startChild'> | undefined
}

/** Sees each statement (SQL text and parameters) before it runs; may throw to fail it. */
export type StatementHook = (sql: string, params: unknown[]) => void

interface StatementWatch {
  hook: StatementHook | null
}

/** The counter of the innermost countStatements call the current statement runs under. */
const statementCounter = new AsyncLocalStorage<{ count: number }>()

async function countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const counter = { count: 0 }
  // Awaited inside run: a thenable (light-my-request's inject) dispatches on its then(),
  // which must happen inside the counter's context.
  const result = await statementCounter.run(counter, async () => await fn())
  return { result, statements: counter.count }
}

const TRANSACTION_CONTROL = /^\s*(begin|commit|rollback|savepoint|release)\b/i

/** Drizzle calls its logger before each statement: that is where counting and fault injection happen. */
function statementWatch(): StatementWatch & { logger: DrizzleLogger } {
  const watch: StatementWatch = { hook: null }
  return Object.assign(watch, {
    logger: {
      logQuery(query: string, params: unknown[]) {
        // Transaction control (which only the node-postgres driver logs) is not a data statement.
        const counter = statementCounter.getStore()
        if (counter && !TRANSACTION_CONTROL.test(query)) counter.count++
        watch.hook?.(query, params)
      },
    },
  })
}

function hookSetter(watch: StatementWatch, nodeEnv: string | undefined) {
  return (hook: StatementHook | null) => {
    if (nodeEnv === 'production') throw new Error('statement fault injection is refused in production')
    watch.hook = hook
  }
}

/** Closing twice (a test that breaks the database, then the app's own shutdown) is harmless. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined
  return () => {
    closing ??= close()
    return closing
  }
}

export async function openDatabase(
  settings: DatabaseSettings,
  log: Logger,
  purpose = 'server',
): Promise<Database> {
  if (!settings.DATABASE_URL) return openPglite(settings.DATA_DIR, log, purpose, settings.NODE_ENV)
  const password = settings.databasePassword
  const connection = {
    ...postgresConnection(settings.DATABASE_URL, settings.DATABASE_SSL, password),
    onPasswordRefused: password?.refused,
  }
  const replica = settings.DATABASE_READ_URL
    ? { connectionString: postgresConnectionString(settings.DATABASE_READ_URL, settings.DATABASE_SSL) }
    : undefined
  return openPostgres(connection, replica, settings, log)
}

async function openPglite(
  dataDir: string,
  log: Logger,
  purpose: string,
  nodeEnv: string | undefined,
): Promise<Database> {
  const lock: DataDirLock = lockDataDir(dataDir, purpose)
  const pgdata = join(dataDir, 'pgdata')
  const freshlyCreated = !existsSync(join(pgdata, 'PG_VERSION'))
  let client: PGlite
  try {
    client = await PGlite.create(pgdata)
  } catch (err) {
    lock.release()
    throw err
  }
  const watch = statementWatch()
  // Request deadlines: see statement-signal.ts (best effort on PGlite).
  refuseAfterAbort(client, ['query', 'transaction'])
  const db = drizzlePglite(client, { logger: watch.logger }) as unknown as Db
  log.debug({ dataDir, freshlyCreated }, 'embedded PGlite database opened')
  return {
    kind: 'pglite',
    db,
    freshlyCreated,
    countStatements,
    read: (query, scope) => query(scope ? scopedDb(db, scope) : db),
    setStatementHook: hookSetter(watch, nodeEnv),
    metrics: [],
    withScriptTransaction: (fn) =>
      client.transaction((tx) => fn(async (text) => (await tx.exec(text)).at(-1)?.rows ?? [])),
    async ping() {
      await client.query('SELECT 1')
    },
    close: once(async () => {
      try {
        await client.close()
      } finally {
        lock.release()
      }
    }),
  }
}

async function openPostgres(
  connection: PoolConnection,
  replicaConnection: PoolConnection | undefined,
  settings: DatabaseSettings,
  log: Logger,
): Promise<Database> {
  const poolMetrics = createPoolMetrics()
  const pool = createPool(connection, settings, log, 'primary', settings.tracing)
  poolMetrics.watch(pool, 'primary')
  // Request deadlines cancel the statements run under them: see statement-signal.ts.
  cancelOnSignal(pool, log)
  const watch = statementWatch()
  const db = drizzlePg(pool, { logger: watch.logger }) as unknown as Db
  useNamedStatements(db, settings.DB_PREPARED_STATEMENTS ?? true)
  const replica =
    replicaConnection && createPool(replicaConnection, settings, log, 'replica', settings.tracing)
  let readDb: Db | undefined
  if (replica) {
    poolMetrics.watch(replica, 'replica')
    cancelOnSignal(replica, log)
    readDb = drizzlePg(replica, { logger: watch.logger }) as unknown as Db
    useNamedStatements(readDb, settings.DB_PREPARED_STATEMENTS ?? true)
  }
  return {
    kind: 'postgres',
    db,
    freshlyCreated: false,
    countStatements,
    async read(query, scope) {
      const on = (handle: Db) => query(scope ? scopedDb(handle, scope) : handle)
      if (!readDb) return on(db)
      try {
        return await on(readDb)
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err
        log.warn({ err }, 'read replica unavailable; reading from the primary')
        return on(db)
      }
    },
    setStatementHook: hookSetter(watch, settings.NODE_ENV),
    metrics: poolMetrics.metrics,
    async withScriptTransaction(fn) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await fn(async (text) => {
          const res = (await client.query(text)) as pg.QueryResult | pg.QueryResult[]
          return (Array.isArray(res) ? res.at(-1)?.rows : res.rows) ?? []
        })
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release()
      }
    },
    async ping() {
      await pool.query('SELECT 1')
    },
    close: once(async () => {
      await Promise.all([pool.end(), replica?.end()])
    }),
  }
}
