// Seeding a benchmark's scratch database: migrations, then users and stories.
import { sql } from 'drizzle-orm'
import pino from 'pino'
import { seedData } from '../src/cli/seed.ts'
import { loadConfig } from '../src/config/load.ts'
import { type Database, openDatabase } from '../src/platform/db/database.ts'
import { migrate } from '../src/platform/db/migrate.ts'
import { rowsOf } from '../src/platform/db/rows.ts'

/**
 * Migrates and seeds the database at `url`; `inspect` runs on the open database before
 * it closes. Returns the id of one published story and what `inspect` returned.
 */
export async function seedBenchDatabase<T = undefined>(
  url: string,
  dataDir: string,
  counts: { users: number; stories: number; batchSize?: number },
  inspect?: (database: Database, storyId: string) => Promise<T>,
  /** `info` shows the seeding progress (worth it for a million stories). */
  logLevel = 'warn',
): Promise<{ storyId: string; inspected: T | undefined }> {
  // Seeding batches are slow statements by design: the slow-query log stays off.
  const env = { ...process.env, DATABASE_URL: url, DATA_DIR: dataDir, DB_SLOW_QUERY_MS: '0' }
  const { config } = loadConfig(env, '/none')
  const log = pino({ level: logLevel })
  const database = await openDatabase(config, log)
  try {
    await migrate(database, log)
    await seedData(database, log, counts)
    const [story] = await rowsOf<{ id: string }>(
      database.db.execute(
        sql`SELECT id FROM stories WHERE status = 'published' AND deleted_at IS NULL LIMIT 1`,
      ),
    )
    return { storyId: story!.id, inspected: await inspect?.(database, story!.id) }
  } finally {
    await database.close()
  }
}
