import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { generateSecretKey } from '../../../src/config/secret-key.ts'
import type { StoreLog } from '../../../src/config/secrets/index.ts'

/** A .env path that never exists, so a developer's own .env cannot leak into a test. */
export const NO_DOTENV = '/nonexistent/inkwell/.env'

/** A production environment that passes every check; tests break one thing at a time. */
export function productionEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    SECRET_KEY: generateSecretKey(),
    AUTH_ISSUER: 'https://id.example.com/',
    AUTH_AUDIENCE: 'inkwell-api',
    DATABASE_URL: 'postgres://inkwell:db-password-1@db.internal:5432/inkwell?sslmode=verify-full',
    CORS_ORIGINS: 'https://app.example.com',
    TRUST_PROXY: '10.0.0.0/8',
    LOG_LEVEL: 'info',
    ...extra,
  }
}

/** A scratch directory inside the run's test directory. */
export function scratchDir(): string {
  const dir = join(
    process.env.INKWELL_TEST_DIR ?? join(process.cwd(), '.tmp', 'adhoc'),
    'config',
    randomUUID(),
  )
  mkdirSync(dir, { recursive: true })
  return dir
}

/** A logger that keeps every line, to assert on what was logged (and what was not). */
export function captureLog() {
  const lines: Array<{ level: string; msg: string; obj: object }> = []
  const log: StoreLog = {
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  }
  return {
    log,
    lines,
    text: () => lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.obj)}`).join('\n'),
  }
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000) {
  const clock = { now: start, advance: (ms: number) => (clock.now += ms), read: () => clock.now }
  return clock
}
