import { type SQL, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Principal } from '../../platform/auth/principal.ts'
import type { Db, DbOrTx, Tx } from '../../platform/db/database.ts'
import { inTransaction } from '../../platform/db/transaction.ts'
import type { RequestScope, ScopedRequest } from '../../platform/request-scope.ts'
import { auditLog } from './audit.table.ts'

export type AuditOutcome = 'success' | 'denied' | 'failed'

/** Who acted: a verified principal, the system itself, or an unidentified client. */
export type AuditActor =
  | { type: 'user'; profileId: string; subject: string }
  | { type: 'system' }
  | { type: 'anonymous' }

/** Where the request came from; filled from the current request when omitted. */
export interface AuditSource {
  requestId?: string | null
  clientIp?: string | null
  userAgent?: string | null
}

export interface AuditEvent {
  action: string
  actor: AuditActor
  outcome?: AuditOutcome
  target?: { type: string; id: string }
  /** Never secrets, tokens or unverified claims. */
  details?: Record<string, unknown>
  source?: AuditSource
}

export const SYSTEM: AuditActor = { type: 'system' }

export const actorOf = (principal: Pick<Principal, 'profileId' | 'subject'>): AuditActor => ({
  type: 'user',
  profileId: principal.profileId,
  subject: principal.subject,
})

/** A request's id, IP and user agent. */
export function sourceOf(request: ScopedRequest): AuditSource {
  return { requestId: request.id, clientIp: request.ip, userAgent: request.headers['user-agent'] ?? null }
}

const MAX_USER_AGENT = 512

/** Audited work's context: a request's deps carry its `scope`, the app's own context none. */
type AuditDeps = { db: DbOrTx; log: Logger; scope?: RequestScope | undefined }

export function rowOf(event: AuditEvent, scope?: RequestScope) {
  // Services are called with a principal, not a request: the source of the request
  // being served comes from its scope (in the request's deps), which keeps their
  // signatures free of HTTP.
  const current = scope?.request
  const source = { ...(current && sourceOf(current)), ...event.source }
  const actor = event.actor
  return {
    actorType: actor.type,
    actorProfileId: actor.type === 'user' ? actor.profileId : null,
    actorSubject: actor.type === 'user' ? actor.subject : null,
    action: event.action,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    outcome: event.outcome ?? 'success',
    requestId: source.requestId ?? null,
    clientIp: source.clientIp ?? null,
    userAgent: source.userAgent?.slice(0, MAX_USER_AGENT) ?? null,
    details: event.details ?? {},
  }
}

type AuditInsert = ReturnType<typeof rowOf>

/** Inserts one unsealed row with the caller's db or transaction; returns what to log. */
export async function insertAuditRow(
  db: DbOrTx,
  event: AuditEvent,
  scope?: RequestScope,
): Promise<AuditInsert & { id: number }> {
  const row = rowOf(event, scope)
  const [inserted] = await db.insert(auditLog).values(row).returning({ id: auditLog.id })
  return { ...row, id: inserted!.id }
}

/**
 * The columns and values of `profile.created` for a profile whose id comes from a
 * data-modifying CTE `p (id, created)`: the creation and its audit row are then ONE
 * statement, so first requests racing on one subject serialize no longer than before.
 */
export function profileCreatedInsert(subject: string, scope?: RequestScope): SQL {
  const r = rowOf({ action: 'profile.created', actor: { type: 'anonymous' } }, scope)
  return sql`INSERT INTO audit_log (actor_type, actor_profile_id, actor_subject, action, target_type, target_id,
      outcome, request_id, client_ip, user_agent, details)
    SELECT 'user', p.id, ${subject}, 'profile.created', 'profile', p.id::text, 'success',
      ${r.requestId}, ${r.clientIp}, ${r.userAgent}, '{}'::jsonb FROM p WHERE p.created
    RETURNING id, occurred_at`
}

/** The shipping copy: one structured line per committed audit row, marked `audit: true`. */
export function logAuditRow(log: Pick<Logger, 'info'>, row: AuditInsert & { id: number }): void {
  log.info({ audit: true, auditId: row.id, ...row }, `audit ${row.action} ${row.outcome}`)
}

/** Records an event in its own statement (denials, reads, system events). */
export async function recordAudit(deps: AuditDeps, event: AuditEvent): Promise<void> {
  logAuditRow(deps.log, await insertAuditRow(deps.db, event, deps.scope))
}

export type RecordAudit = (event: AuditEvent) => Promise<void>

/**
 * Runs `fn` in one transaction with a `record` that writes audit rows into it: the
 * rows commit with the operation or not at all. Log lines follow the commit, so an
 * aborted operation ships nothing either.
 */
export async function inAuditedTransaction<T>(
  deps: AuditDeps & { db: Db },
  fn: (tx: Tx, record: RecordAudit) => Promise<T>,
): Promise<T> {
  const { result, rows } = await inTransaction(deps.db, async (tx) => {
    const rows: (AuditInsert & { id: number })[] = []
    const result = await fn(tx, async (event) => {
      rows.push(await insertAuditRow(tx, event, deps.scope))
    })
    return { result, rows }
  })
  for (const row of rows) logAuditRow(deps.log, row)
  return result
}
