import type { Principal } from '../../platform/auth/principal.ts'
import type { AppContext } from '../../platform/context.ts'
import { AppError } from '../../platform/http/errors.ts'
import { isoTime } from '../../platform/iso-time.ts'
import type { AuditRow } from './audit.table.ts'
import { listAuditEntries } from './queries.ts'
import { actorOf, recordAudit } from './record.ts'
import type { AuditEntry, AuditLogQuery } from './schemas.ts'

type Deps = Pick<AppContext, 'db' | 'log' | 'cursors' | 'scope'>

const CURSOR = 'audit.log'

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: String(row.id),
    occurredAt: isoTime(row.occurredAt),
    actor: {
      type: row.actorType as AuditEntry['actor']['type'],
      profileId: row.actorProfileId,
      subject: row.actorSubject,
    },
    action: row.action,
    target: row.targetType === null ? null : { type: row.targetType, id: row.targetId },
    outcome: row.outcome as AuditEntry['outcome'],
    requestId: row.requestId,
    clientIp: row.clientIp,
    userAgent: row.userAgent,
    details: row.details as Record<string, unknown>,
    seq: row.seq === null ? null : String(row.seq),
    prevHash: row.prevHash,
    hash: row.hash,
    sealedAt: row.sealedAt ? isoTime(row.sealedAt) : null,
  }
}

function decodeAfter(deps: Deps, cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined
  const position = deps.cursors.decode<{ id?: unknown }>(CURSOR, cursor)
  if (!Number.isSafeInteger(position?.id)) throw new AppError('invalid_cursor')
  return position.id as number
}

/** The admin's read is itself audited, with the filters used (they may reveal intent). */
export async function readAuditLog(
  deps: Deps,
  principal: Principal,
  query: AuditLogQuery,
): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
  const { cursor, from, to, ...filters } = query
  const rows = await listAuditEntries(deps.db, {
    ...filters,
    afterId: decodeAfter(deps, cursor),
    from: from === undefined ? undefined : new Date(from),
    to: to === undefined ? undefined : new Date(to),
  })
  const page = rows.slice(0, query.limit)
  const last = page.at(-1)
  await recordAudit(deps, {
    action: 'admin.audit_log.read',
    actor: actorOf(principal),
    target: { type: 'audit_log', id: '*' },
    details: { filters: { ...filters, from, to }, returned: page.length, paged: cursor !== undefined },
  })
  return {
    items: page.map(toAuditEntry),
    nextCursor: rows.length > query.limit && last ? deps.cursors.encode(CURSOR, { id: last.id }) : null,
  }
}
