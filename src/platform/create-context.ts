import type { Logger } from 'pino'
import type { Config } from '../config/schema.ts'
import { type AuthSetup, createAuth } from './auth/from-config.ts'
import { createMemoryCache, createRedisCache } from './cache/cache.ts'
import type { AppContext } from './context.ts'
import { openDatabase } from './db/database.ts'
import { migrate } from './db/migrate.ts'
import { createCursorCodec } from './http/cursor.ts'
import { createInProcessRunner } from './jobs/runner.ts'

export interface Platform {
  ctx: AppContext
  auth: AuthSetup
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
  options: { migrateOnStart?: boolean } = {},
): Promise<Platform> {
  if (!config.SECRET_KEY) throw new Error('SECRET_KEY is not set')
  const auth = await createAuth(config)
  const database = await openDatabase(config, log)
  try {
    if (options.migrateOnStart ?? database.kind === 'pglite') await migrate(database, log)
  } catch (err) {
    await database.close()
    throw err
  }
  const cache = config.REDIS_URL
    ? createRedisCache(config.REDIS_URL, config.REDIS_KEY_PREFIX, log)
    : createMemoryCache()
  const jobs = createInProcessRunner(log)
  const ctx: AppContext = {
    config,
    database,
    db: database.db,
    cache,
    jobs,
    cursors: createCursorCodec(config.SECRET_KEY),
    log,
  }
  return {
    ctx,
    auth,
    async close() {
      await jobs.stop()
      await cache.close()
      await database.close()
    },
  }
}
