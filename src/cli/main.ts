import { parseArgs } from 'node:util'
import pino from 'pino'
import { type Config, loadConfigOrExit } from '../config/index.ts'
import { loadOrCreateDevKey, signDevToken } from '../platform/auth/dev-idp.ts'
import { DataDirInUseError } from '../platform/db/data-dir-lock.ts'
import { openDatabase } from '../platform/db/database.ts'
import { grantAppRoleStatement, migrate } from '../platform/db/migrate.ts'
import { loggerOptions } from '../platform/observability/logger.ts'

// Each command imports what it needs when it runs, so `token` does not pay for BullMQ or the AWS SDK.
const USAGE = `usage: inkwell <command> [options]

commands:
  serve                       run the HTTP API (same as npm start)
  worker                      run the background worker
  migrate                     apply SQL migrations (DATABASE_DIRECT_URL, else DATABASE_URL, else DATA_DIR),
                              then grant DATABASE_APP_ROLE its privileges if that role exists
  db grant [--role R]         grant the application role (default DATABASE_APP_ROLE) its privileges now
  seed --users N --stories M  insert demo data
  token --sub S [--role R]... [--email E] [--ttl 1h]
                              print a development-IdP token (AUTH_DEV only)
  config check [--production] [--json]
                              effective configuration, secrets redacted, source of each value
  config docs                 print docs/configuration.md from the schema
  secret generate [--bytes N] print a strong SECRET_KEY
  jobs list|retry|discard     inspect, retry or discard failed background jobs (BullMQ)
  audit verify [--json]       check the audit log's hash chain (exit 1 when broken)
  audit seal | audit purge    seal pending audit rows / apply AUDIT_RETENTION_DAYS now
`

const [command, ...rest] = process.argv.slice(2)

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a whole number`)
  return n
}

/** "90s", "15m", "1h", "7d" → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text)
  if (!match) fail(`--ttl must look like 90s, 15m, 1h or 7d`)
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd']
}

async function withDatabase(
  purpose: string,
  fn: (db: Awaited<ReturnType<typeof openDatabase>>, config: Readonly<Config>) => Promise<void>,
) {
  const { config, secrets } = await loadConfigOrExit()
  secrets.close()
  const log = pino(loggerOptions(config.LOG_LEVEL))
  const url = config.DATABASE_DIRECT_URL ?? config.DATABASE_URL
  let database: Awaited<ReturnType<typeof openDatabase>>
  try {
    database = await openDatabase({ ...config, DATABASE_URL: url }, log, purpose)
  } catch (err) {
    if (err instanceof DataDirInUseError) fail(err.message, 1)
    throw err
  }
  try {
    await fn(database, config)
  } finally {
    await database.close()
  }
}

switch (command) {
  case 'serve':
    await import('../server.ts')
    break
  case 'worker':
    await import('../worker.ts')
    break
  case 'migrate':
    await withDatabase('migrate', async (database, config) => {
      const log = pino(loggerOptions('warn'))
      const applied = await migrate(database, log, undefined, { appRole: config.DATABASE_APP_ROLE })
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n')
    })
    break
  case 'seed': {
    const { values } = parseArgs({
      args: rest,
      options: { users: { type: 'string' }, stories: { type: 'string' } },
    })
    const users = positiveInt(values.users, 'users', 100)
    const stories = positiveInt(values.stories, 'stories', 1000)
    await withDatabase('seed', async (database, config) => {
      const log = pino(loggerOptions('info'))
      await migrate(database, log, undefined, { appRole: config.DATABASE_APP_ROLE })
      const { seedData } = await import('./seed.ts')
      await seedData(database, log, { users, stories })
    })
    break
  }
  case 'token': {
    const { values } = parseArgs({
      args: rest,
      options: {
        sub: { type: 'string' },
        role: { type: 'string', multiple: true },
        email: { type: 'string' },
        ttl: { type: 'string', default: '1h' },
      },
    })
    if (!values.sub) fail('token: --sub is required')
    const { config, secrets } = await loadConfigOrExit()
    secrets.close()
    if (!config.AUTH_DEV) fail('token: the development identity provider is off (AUTH_DEV)', 1)
    const key = await loadOrCreateDevKey(config.DATA_DIR)
    const token = await signDevToken(key, {
      subject: values.sub,
      roles: values.role ?? [],
      email: values.email,
      ttlSeconds: parseDuration(values.ttl!),
      rolesClaim: config.AUTH_ROLES_CLAIM,
    })
    process.stdout.write(`${token}\n`)
    break
  }
  case 'db': {
    const { positionals, values } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { role: { type: 'string' } },
    })
    if (positionals[0] !== 'grant' || positionals.length > 1) fail('usage: inkwell db grant [--role R]')
    if (values.role !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(values.role))
      fail('--role must be a lower-case PostgreSQL identifier')
    await withDatabase('grant', async (database, config) => {
      const role = values.role ?? config.DATABASE_APP_ROLE
      try {
        await database.withScriptTransaction((run) => run(grantAppRoleStatement(role, true)))
      } catch (err) {
        const missing = (err as { code?: string }).code === '42883'
        fail(`db grant: ${missing ? 'run `inkwell migrate` first' : (err as Error).message}`, 1)
      }
      process.stdout.write(`granted the application privileges to ${role}\n`)
    })
    break
  }
  case 'config':
    process.exitCode = await (await import('./config-command.ts')).runConfigCommand(rest)
    break
  case 'audit':
    process.exitCode = await (await import('./audit-command.ts')).runAuditCommand(rest)
    break
  case 'jobs':
    process.exitCode = await (await import('./jobs-command.ts')).runJobsCommand(rest)
    break
  case 'secret':
    process.exitCode = (await import('./secret-command.ts')).runSecretCommand(rest)
    break
  case undefined:
  case 'help':
  case '--help':
    process.stdout.write(USAGE)
    break
  default:
    fail(`unknown command "${command}"\n\n${USAGE}`)
}
