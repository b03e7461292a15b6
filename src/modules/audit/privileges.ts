import { sql } from 'drizzle-orm'
import type { Db } from '../../platform/db/database.ts'
import { rowsOf } from '../../platform/db/rows.ts'

/**
 * True when this connection's role could rewrite the audit log itself: a superuser, a
 * member of the owning role, or a role granted UPDATE, DELETE or TRUNCATE on it. The
 * application should connect as DATABASE_APP_ROLE, which can only append (docs/database.md).
 */
export async function canRewriteAuditLog(db: Db): Promise<boolean> {
  const [row] = await rowsOf<{ privileged: boolean }>(
    db.execute(sql`SELECT
      coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)
      OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'audit_log'::regclass), 'USAGE')
      OR has_table_privilege('audit_log', 'UPDATE, DELETE, TRUNCATE') AS privileged`),
  )
  return row?.privileged === true
}
