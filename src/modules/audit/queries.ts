import { and, desc, eq, gte, like, lt, or, type SQL } from 'drizzle-orm'
import type { DbOrTx } from '../../platform/db/database.ts'
import { auditLog } from './audit.table.ts'

export interface AuditFilter {
  limit: number
  afterId?: number | undefined
  actor?: string | undefined
  action?: string | undefined
  targetType?: string | undefined
  targetId?: string | undefined
  from?: Date | undefined
  to?: Date | undefined
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function actorCondition(actor: string): SQL | undefined {
  if (actor === 'system' || actor === 'anonymous') return eq(auditLog.actorType, actor)
  const bySubject = eq(auditLog.actorSubject, actor)
  return UUID.test(actor) ? or(eq(auditLog.actorProfileId, actor), bySubject) : bySubject
}

function actionCondition(action: string): SQL {
  if (!action.endsWith('.*')) return eq(auditLog.action, action)
  // The pattern allows only [a-z0-9_.]: `_` is escaped, nothing else is a LIKE wildcard.
  return like(auditLog.action, `${action.slice(0, -1).replaceAll('_', '\\_')}%`)
}

/** Newest first, keyset on `id` (one fetched beyond `limit` tells whether a next page exists). */
export function listAuditEntries(db: DbOrTx, filter: AuditFilter) {
  const conditions = [
    filter.afterId === undefined ? undefined : lt(auditLog.id, filter.afterId),
    filter.actor === undefined ? undefined : actorCondition(filter.actor),
    filter.action === undefined ? undefined : actionCondition(filter.action),
    filter.targetType === undefined ? undefined : eq(auditLog.targetType, filter.targetType),
    filter.targetId === undefined ? undefined : eq(auditLog.targetId, filter.targetId),
    filter.from === undefined ? undefined : gte(auditLog.occurredAt, filter.from),
    filter.to === undefined ? undefined : lt(auditLog.occurredAt, filter.to),
  ]
  return db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.id))
    .limit(filter.limit + 1)
}
