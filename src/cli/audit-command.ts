import { parseArgs } from 'node:util'
import pino from 'pino'
import { type Config, loadConfigOrExit } from '../config/index.ts'
import { auditKey, purgeExpired, sealPending, verifyChain } from '../modules/audit/index.ts'
import { DataDirInUseError } from '../platform/db/data-dir-lock.ts'
import { type Database, openDatabase } from '../platform/db/database.ts'
import { loggerOptions } from '../platform/observability/logger.ts'

const USAGE = `usage: inkwell audit <verify|seal|purge> [--json]
  verify   check the hash chain; names the first broken link, exit 1 when broken
  seal     seal committed rows now (what the periodic job does)
  purge    apply AUDIT_RETENTION_DAYS now, behind a checkpoint
`

async function withAuditDatabase(
  fn: (database: Database, key: Buffer, config: Readonly<Config>) => Promise<number>,
): Promise<number> {
  const { config, secrets } = await loadConfigOrExit()
  secrets.close()
  const log = pino(loggerOptions(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL))
  let database: Database
  try {
    database = await openDatabase(config, log, 'audit')
  } catch (err) {
    if (err instanceof DataDirInUseError) {
      process.stderr.write(`${err.message}\n`)
      return 1
    }
    throw err
  }
  try {
    return await fn(database, auditKey(config), config)
  } finally {
    await database.close()
  }
}

async function verify(database: Database, key: Buffer, json: boolean): Promise<number> {
  const result = await verifyChain(database.db, key)
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`)
  else if (result.ok) {
    const from = result.fromCheckpoint === null ? 'genesis' : `checkpoint at seq ${result.fromCheckpoint}`
    process.stdout.write(
      `audit chain OK: ${result.checked} sealed rows verified from ${from}; ${result.unsealed} unsealed\n`,
    )
  } else {
    const b = result.broken!
    process.stdout.write(
      `audit chain BROKEN at seq ${b.seq}${b.id === null ? '' : ` (row id ${b.id})`}: ${b.reason}; ${result.checked} rows verified before it\n`,
    )
  }
  return result.ok ? 0 : 1
}

/** `inkwell audit …`; returns the exit code. */
export async function runAuditCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean' } },
    allowPositionals: true,
  })
  const [sub] = positionals
  if (sub === 'verify')
    return withAuditDatabase((database, key) => verify(database, key, values.json ?? false))
  if (sub === 'seal')
    return withAuditDatabase(async (database, key) => {
      process.stdout.write(`sealed ${await sealPending(database.db, key)} rows\n`)
      return 0
    })
  if (sub === 'purge')
    return withAuditDatabase(async (database, key, config) => {
      const log = pino(loggerOptions('warn'))
      process.stdout.write(
        `purged ${await purgeExpired(database.db, key, config.AUDIT_RETENTION_DAYS, log)} rows\n`,
      )
      return 0
    })
  process.stderr.write(USAGE)
  return 2
}
