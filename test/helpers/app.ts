import { randomUUID } from 'node:crypto'
import { cpSync, existsSync, mkdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { after } from 'node:test'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { withDevSecretKey } from '../../src/config/dev-secret.ts'
import { loadConfig } from '../../src/config/load.ts'
import { loadOrCreateDevKey, signDevToken } from '../../src/platform/auth/dev-idp.ts'
import { createPlatform, type Platform } from '../../src/platform/create-context.ts'
import { loggerOptions } from '../../src/platform/observability/logger.ts'

export interface TestApp {
  app: FastifyInstance
  platform: Platform
  dataDir: string
  /** A dev-IdP token for `subject`, accepted by this app. */
  token(subject: string, options?: { roles?: string[]; email?: string; ttlSeconds?: number }): Promise<string>
  /** `{ authorization: 'Bearer …' }` for `subject`. */
  auth(subject: string, options?: { roles?: string[] }): Promise<{ authorization: string }>
}

// In a services run, every test file (a process of its own) gets its own Redis key prefix
// under the run's: cache entries, invalidation messages, rate-limit counters and queues
// never cross files, while servers and workers started from here inherit it through
// process.env, and the run's cleanup still finds every key under the run's prefix.
const runPrefix = process.env.REDIS_KEY_PREFIX
if (runPrefix?.startsWith('inkwell:test:') && process.argv[1])
  process.env.REDIS_KEY_PREFIX = `${runPrefix}${basename(process.argv[1]).replace(/\.test\.ts$/, '')}:`

export const testDir = () => process.env.INKWELL_TEST_DIR ?? join(process.cwd(), '.tmp', 'adhoc')

/** A fresh data directory: a copy of the run's migrated PGlite template. */
export function freshDataDir(): string {
  const dir = join(testDir(), 'apps', randomUUID())
  const template = process.env.INKWELL_TEST_TEMPLATE
  mkdirSync(dir, { recursive: true })
  if (template && existsSync(join(template, 'pgdata')))
    cpSync(join(template, 'pgdata'), join(dir, 'pgdata'), { recursive: true })
  return dir
}

/** Names unique across tests, files and runs (usernames allow [a-z0-9_]). */
export function unique(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`
}

/** Suites share client IPs and subjects; rate-limit tests set tight limits themselves. */
const generousRateLimits = {
  RATE_LIMIT_IP_MAX: '1000000',
  RATE_LIMIT_READ_MAX: '1000000',
  RATE_LIMIT_WRITE_MAX: '1000000',
  RATE_LIMIT_EXPENSIVE_MAX: '1000000',
}

/**
 * Builds the app on the run's backend (embedded PGlite copy, or the services run's
 * PostgreSQL and Redis) and closes it when the test file ends.
 */
export async function buildTestApp(
  overrides: Record<string, string> = {},
  /** Runs before the app is ready: a test may register its own routes here. */
  setup?: (app: FastifyInstance) => void | Promise<void>,
): Promise<TestApp> {
  const dataDir = overrides.DATA_DIR ?? freshDataDir()
  const { config: loaded } = loadConfig(
    // Load shedding by event-loop delay is off unless a test asks for it: building a
    // second app blocks the loop long enough to make the first one shed requests.
    {
      ...process.env,
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      ...generousRateLimits,
      ...overrides,
    },
    '/nonexistent/.env',
  )
  const config = withDevSecretKey(loaded)
  const log = pino(loggerOptions(config.LOG_LEVEL))
  const platform = await createPlatform(config, log)
  const app = await buildApp(platform)
  await setup?.(app)
  await app.ready()
  after(() => app.close())
  const key = await loadOrCreateDevKey(dataDir)
  const token: TestApp['token'] = (subject, options = {}) =>
    signDevToken(key, {
      subject,
      roles: options.roles,
      email: options.email,
      ttlSeconds: options.ttlSeconds ?? 3600,
      rolesClaim: config.AUTH_ROLES_CLAIM,
    })
  return {
    app,
    platform,
    dataDir,
    token,
    auth: async (subject, options) => ({ authorization: `Bearer ${await token(subject, options)}` }),
  }
}

/**
 * A job that fails its first `failures` tries (all of them by default) with a TypeError
 * naming the try, one millisecond apart; `tries()` counts the tries made.
 */
export function flakyJob(name: string, attempts: number, failures = Number.POSITIVE_INFINITY) {
  let tries = 0
  return {
    definition: {
      name,
      attempts,
      backoffMs: 1,
      handler: async () => {
        tries++
        if (tries <= failures) throw new TypeError(`try ${tries} failed`)
      },
    },
    tries: () => tries,
  }
}
