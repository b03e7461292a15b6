import { sql } from 'drizzle-orm'
import type { LightMyRequestResponse } from 'fastify'
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
