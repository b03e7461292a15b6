import type { Logger } from 'pino'
import type { Metric } from 'prom-client'
import type { Config } from '../config/schema.ts'
import { databasePassword } from '../config/secrets/database-password.ts'
import type { SecretStore } from '../config/secrets/index.ts'
import { type AuthSetup, createAuth } from './auth/from-config.ts'
import { createCache } from './cache/create.ts'
import { connectRedis, type RedisLink } from './cache/redis.ts'
import type { AppContext } from './context.ts'
import { openDatabase } from './db/database.ts'
import { migrate } from './db/migrate.ts'
import { createCursorCodec } from './http/cursor.ts'
import { purgeExpiredKeysJob } from './idempotency/idempotency.ts'
import { createJobs, type Jobs } from './jobs/index.ts'
import { createErrorReporter } from './observability/error-reporter.ts'
import { createTracing } from './observability/tracing.ts'

export interface Platform {
  ctx: AppContext
  auth: AuthSetup
  /** The job runner and its metrics and health (the worker process serves them). */
  jobs: Jobs
  /** Extra metrics for the app's registry (the secrets store's refresh counters). */
  metrics: Metric[]
  /** The Redis connection cache and rate limits share; unset in the embedded default. */
  redis: RedisLink | undefined
  /** Stops jobs (flushing buffered state), then closes cache and database. */
  close(): Promise<void>
}

/**
 * Opens every adapter the configuration names. The embedded database is migrated
 * here; a real PostgreSQL is migrated by `inkwell migrate` (a deploy step) unless
 * `migrateOnStart` says otherwise.
 */
export async function createPlatform(
  config: Readonly<Config>,
  log: Logger,
  options: { migrateOnStart?: boolean; secrets?: SecretStore; role?: 'api' | 'worker' } = {},
): Promise<Platform> {
  const { secrets } = options
  if (!config.SECRET_KEY) throw new Error('SECRET_KEY is not set')
  const auth = await createAuth(config, log)
  // With a secrets manager, each new pool connection asks it for the current password (rotation).
  const password =
    secrets && secrets.kind !== 'env' && config.DATABASE_URL
      ? databasePassword(secrets, config.DATABASE_URL)
      : undefined
  const tracing = createTracing(config, log, options.role ?? 'api')
  const database = await openDatabase({ ...config, databasePassword: password, tracing }, log)
  try {
    if (options.migrateOnStart ?? database.kind === 'pglite') await migrate(database, log)
  } catch (err) {
    await database.close()
    throw err
  }
  const redis = config.REDIS_URL ? connectRedis(config.REDIS_URL, config.REDIS_KEY_PREFIX, log) : undefined
  const { cache, metrics: cacheMetrics } = createCache(config, redis, log)
  const errors = createErrorReporter(config, log)
  const jobSetup = createJobs(config, database.db, log, options.role ?? 'api', errors, tracing)
  const jobs = jobSetup.runner
  jobs.register(purgeExpiredKeysJob(database.db))
  const ctx: AppContext = {
    config,
    database,
    db: database.db,
    cache,
    jobs,
    cursors: createCursorCodec(config.SECRET_KEY),
    log,
    errors,
    tracing,
  }
  secrets?.startRefresh(log)
  return {
    ctx,
    auth,
    jobs: jobSetup,
    metrics: [
      ...(secrets?.metrics() ?? []),
      ...database.metrics,
      ...cacheMetrics,
      ...jobSetup.metrics,
      ...ctx.errors.metrics,
    ],
    redis,
    async close() {
      secrets?.close()
      await jobs.stop()
      await cache.close()
      await database.close()
      // Last: what closing reported, too, goes out before the process exits.
      await ctx.errors.flush(2000)
      // Sends the spans still queued (2 s at most).
      await tracing.shutdown()
    },
  }
}
