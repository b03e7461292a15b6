// The story query as the bench's own servers run it: Inkwell's findStory through a pool
// made by Inkwell's createPool from the same settings (DATABASE_URL, DB_POOL_MAX,
// DB_PREPARED_STATEMENTS), with nothing else of Inkwell around it.
import { drizzle } from 'drizzle-orm/node-postgres'
import pino from 'pino'
import { loadConfig } from '../src/config/load.ts'
import { findStory } from '../src/modules/stories/queries.ts'
import type { Db } from '../src/platform/db/database.ts'
import { createPool } from '../src/platform/db/postgres-pool.ts'
import { useNamedStatements } from '../src/platform/db/prepared.ts'

export function openStoryDb() {
  const { config } = loadConfig()
  const pool = createPool({ connectionString: config.DATABASE_URL }, config, pino({ level: 'warn' }))
  const db = drizzle(pool) as unknown as Db
  useNamedStatements(db, config.DB_PREPARED_STATEMENTS)
  return { findStory: (id: string) => findStory(db, id), close: () => pool.end() }
}
