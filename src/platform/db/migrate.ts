import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Database } from './database.ts'

export const MIGRATIONS_DIR = new URL('../../../migrations/', import.meta.url).pathname

interface Migration {
  version: string
  checksum: string
  sql: string
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8')
      return {
        version: file.replace(/\.sql$/, ''),
        checksum: createHash('sha256').update(sql).digest('hex'),
        sql,
      }
    })
}

/**
 * Applies pending migrations in one transaction under a transaction-scoped advisory
 * lock: instances starting together serialize here and all but the first find
 * nothing to do. A failed migration rolls back entirely. An applied file whose
 * content changed is an error, not silently skipped.
 */
export async function migrate(
  database: Database,
  log: Logger,
  dir = MIGRATIONS_DIR,
  options: { appRole?: string | undefined } = {},
): Promise<string[]> {
  const migrations = readMigrations(dir)
  return database.withScriptTransaction(async (run) => {
    await run(`SELECT pg_advisory_xact_lock(hashtext('inkwell.migrate'))`)
    await run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`)
    const rows = await run('SELECT version, checksum FROM schema_migrations')
    const applied = new Map(rows.map((r) => [String(r.version), String(r.checksum)]))
    const done: string[] = []
    for (const m of migrations) {
      const checksum = applied.get(m.version)
      if (checksum !== undefined) {
        if (checksum !== m.checksum)
          throw new Error(`migration ${m.version} was changed after it was applied`)
        continue
      }
      await run(m.sql)
      await run(`INSERT INTO schema_migrations (version, checksum) VALUES ('${m.version}', '${m.checksum}')`)
      done.push(m.version)
      log.info({ migration: m.version }, 'migration applied')
    }
    // On every run, in the same transaction: a role created after the schema, or a
    // table a migration just added, gets the application's grants (docs/database.md).
    if (options.appRole) await run(grantAppRoleStatement(options.appRole, false))
    return done
  })
}

/** Versions in migrations/ not yet applied (readiness uses it). */
export async function pendingMigrations(database: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const rows = await database.withScriptTransaction(async (run) => {
    const [table] = await run(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`)
    return table?.present ? run('SELECT version FROM schema_migrations') : []
  })
  const applied = new Set(rows.map((r) => String(r.version)))
  return readMigrations(dir)
    .map((m) => m.version)
    .filter((v) => !applied.has(v))
}

/**
 * The call of migration 0006's grant function for `role`. `required`: fail when the
 * role does not exist (`inkwell db grant`) rather than skip it (`migrate`).
 */
export function grantAppRoleStatement(role: string, required: boolean): string {
  return `SELECT inkwell_grant_app_role('${role.replaceAll("'", "''")}', ${required})`
}
