// Seeding a benchmark's scratch database: migrations, then users and stories.
import { sql } from 'drizzle-orm'
import pino from 'pino'
import { seedData } from '../src/cli/seed.ts'
import { loadConfig } from '../src/config/load.ts'
import { type Database, openDatabase } from '../src/platform/db/database.ts'
import { migrate } from '../src/platform/db/migrate.ts'
import { rowsOf } from '../src/platform/db/rows.ts'

/**
 * The measured story's text, the size of a median seeded story (a body of 819
 * characters in four paragraphs, a 29-character title; the seeded median is about 840
 * and 30, with 0 to 3 tags).
 */
const REFERENCE_STORY = {
  title: 'The lantern keeper of the bay',
  body: [
    'The harbor lay under a quiet winter sky, and the lantern keeper walked the stone road to the sea each night with a letter for the morning train. Ships came with songs from islands beyond the mountain.',
    'A small bird followed the lights along the bridge. Memory and promise, silence and fire: the story of the city was written in the windows of every house, and the children read it aloud in the garden by the river.',
    'When the snow came, the keeper lit one more lantern for the stranger who had never returned, and the whole valley saw it shine over the water until the spring. Nobody asked why; everyone knew the answer, and the bells rang softly at dawn.',
    'In the years that followed, travelers spoke of the light on the bay, and some came from far cities only to see it; the keeper welcomed them all with bread and tea.',
  ].join('\n\n'),
  tags: ['fantasy', 'travel'],
}

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
    // The seeded text is random, so each run's story would differ in size, and with it
    // the cost of reading and serializing it: the measured story gets the same text in
    // every run, so that runs (and instruction counts) compare the same bytes.
    await database.db.execute(
      sql`UPDATE stories SET title = ${REFERENCE_STORY.title}, body = ${REFERENCE_STORY.body},
          tags = ${`{${REFERENCE_STORY.tags.join(',')}}`}::text[] WHERE id = ${story!.id}`,
    )
    return { storyId: story!.id, inspected: await inspect?.(database, story!.id) }
  } finally {
    await database.close()
  }
}
