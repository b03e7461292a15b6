// The baseline of the `db` scenario: a bare Fastify route running Inkwell's own
// story-by-id query through the same pool settings, with nothing else (no auth,
// limits, validation, logging, hooks). Started by bench/db.ts.

import { drizzle } from 'drizzle-orm/node-postgres'
import Fastify from 'fastify'
import pino from 'pino'
import { loadConfig } from '../src/config/load.ts'
import { findStory } from '../src/modules/stories/queries.ts'
import type { Db } from '../src/platform/db/database.ts'
import { createPool } from '../src/platform/db/postgres-pool.ts'
import { useNamedStatements } from '../src/platform/db/prepared.ts'

const { config } = loadConfig()
const pool = createPool({ connectionString: config.DATABASE_URL }, config, pino({ level: 'warn' }))
const db = drizzle(pool) as unknown as Db
useNamedStatements(db, config.DB_PREPARED_STATEMENTS)
const app = Fastify()
app.get<{ Params: { id: string } }>('/stories/:id', async (request, reply) => {
  const row = await findStory(db, request.params.id)
  if (!row) return reply.code(404).send()
  return row
})
await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(
  `bare server listening at http://127.0.0.1:${(app.server.address() as { port: number }).port}\n`,
)
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0)),
)
