import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { Logger as DrizzleLogger } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import pg from 'pg'
import type { Logger } from 'pino'
import { type DataDirLock, lockDataDir } from './data-dir-lock.ts'

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
  /** Counts statements issued through `db` (tests use it to catch N+1). */
  readonly statements: { count: number }
  close(): Promise<void>
}

export interface DatabaseSettings {
  DATABASE_URL?: string | undefined
  DATA_DIR: string
  DB_POOL_MAX: number
}

function counter(statements: { count: number }): DrizzleLogger {
  return {
    logQuery() {
      statements.count++
    },
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
  return settings.DATABASE_URL
    ? openPostgres(settings.DATABASE_URL, settings.DB_POOL_MAX, log)
    : openPglite(settings.DATA_DIR, log, purpose)
}

async function openPglite(dataDir: string, log: Logger, purpose: string): Promise<Database> {
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
  const statements = { count: 0 }
  const db = drizzlePglite(client, { logger: counter(statements) }) as unknown as Db
  log.debug({ dataDir, freshlyCreated }, 'embedded PGlite database opened')
  return {
    kind: 'pglite',
    db,
    freshlyCreated,
    statements,
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

async function openPostgres(url: string, max: number, log: Logger): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30000,
    maxLifetimeSeconds: 1800,
    application_name: 'inkwell',
  })
  // An idle client's error (backend killed, failover) must never crash the process;
  // the pool drops that client and the next checkout opens a fresh connection.
  pool.on('error', (err) => log.warn({ err }, 'idle PostgreSQL connection failed'))
  const statements = { count: 0 }
  const db = drizzlePg(pool, { logger: counter(statements) }) as unknown as Db
  return {
    kind: 'postgres',
    db,
    freshlyCreated: false,
    statements,
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
    close: once(() => pool.end()),
  }
}
