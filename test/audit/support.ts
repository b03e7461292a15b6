import { randomBytes } from 'node:crypto'
import { after } from 'node:test'
import { sql } from 'drizzle-orm'
import type { LightMyRequestResponse } from 'fastify'
import pg from 'pg'
import pino from 'pino'
import { loadConfig } from '../../src/config/load.ts'
import { openDatabase } from '../../src/platform/db/database.ts'
import { migrate } from '../../src/platform/db/migrate.ts'
import type { TestApp } from '../helpers/app.ts'

export interface AuditRowView {
  id: number
  seq: number | null
  action: string
  outcome: string
  actor_type: string
  actor_profile_id: string | null
  actor_subject: string | null
  target_type: string | null
  target_id: string | null
  request_id: string | null
  client_ip: string | null
  user_agent: string | null
  details: Record<string, unknown>
}

/** Raw SQL (not the admin API), so a test sees exactly what was stored. */
export async function auditRows(t: TestApp, where = sql`true`): Promise<AuditRowView[]> {
  const result = (await t.platform.ctx.db.execute(
    sql`SELECT id::int AS id, seq::int AS seq, action, outcome, actor_type, actor_profile_id, actor_subject,
          target_type, target_id, request_id, client_ip, user_agent, details
        FROM audit_log WHERE ${where} ORDER BY id`,
  )) as unknown as { rows: AuditRowView[] }
  return result.rows
}

export const rowsOfRequest = (t: TestApp, res: LightMyRequestResponse) =>
  auditRows(t, sql`request_id = ${String(res.headers['x-request-id'])}`)

/** Runs plain SQL on one connection in one transaction (as an operator with psql would). */
export async function asOperator(t: TestApp, text: string): Promise<void> {
  await t.platform.ctx.database.withScriptTransaction(async (run) => {
    await run(text)
  })
}

/**
 * Chain tests read and tamper with the whole log, so each needs a log of its own:
 * on PGlite every app already has its own copy; against PostgreSQL this creates a
 * migrated database per call (dropped when the file ends) and returns the URLs.
 */
export async function isolatedDatabase(): Promise<Record<string, string>> {
  const base = process.env.DATABASE_DIRECT_URL ?? process.env.DATABASE_URL
  if (!base) return {}
  const url = new URL(base)
  const name = `${url.pathname.slice(1)}_a${randomBytes(4).toString('hex')}`.slice(0, 63)
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${name}"`)
  await admin.end()
  url.pathname = `/${name}`
  const overrides = { DATABASE_URL: url.toString(), DATABASE_DIRECT_URL: url.toString() }
  const { config } = loadConfig({ ...process.env, ...overrides }, '/nonexistent/.env')
  const database = await openDatabase(config, pino({ level: 'silent' }), 'test')
  await migrate(database, pino({ level: 'silent' }))
  await database.close()
  after(async () => {
    const client = new pg.Client({ connectionString: base })
    await client.connect()
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await client.end()
  })
  return overrides
}
