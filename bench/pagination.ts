// Keyset pagination at scale, on real PostgreSQL:
//   npm run bench -- pagination [--stories 1000000] [--seconds 10] [--connections 8] [--database-url postgres://…]
// Seeds a scratch database, then loads page 1 and page 10,000 of GET /v1/stories
// (limit 20) against the real server and compares their latency.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { sql } from 'drizzle-orm'
import { rowsOf } from '../src/platform/db/rows.ts'
import { createCursorCodec } from '../src/platform/http/cursor.ts'
import { databaseUrlOption, load, row, scratchDatabase, startProcess } from './lib.ts'
import { seedBenchDatabase } from './seed.ts'

const LIMIT = 20
const PAGE = 10_000

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      stories: { type: 'string', default: '1000000' },
      seconds: { type: 'string', default: '10' },
      connections: { type: 'string', default: '8' },
      'database-url': databaseUrlOption,
    },
  })
  const stories = Number(values.stories)
  const scratch = await scratchDatabase(values['database-url']!, 'inkwell_bench')
  const dataDir = mkdtempSync(join(tmpdir(), 'inkwell-bench-'))
  const secretKey = randomBytes(32).toString('base64url')
  try {
    const seedStarted = performance.now()
    // The position just before page PAGE, found once with OFFSET (setup only; the API never uses OFFSET).
    const { inspected: position } = await seedBenchDatabase(
      scratch.url,
      dataDir,
      { users: Math.max(100, stories / 100), stories, batchSize: 10_000 },
      async (database) => {
        const [row] = await rowsOf<{ published_at: Date; id: string }>(
          database.db.execute(sql`SELECT published_at, id FROM stories
            WHERE status = 'published' AND deleted_at IS NULL
            ORDER BY published_at DESC, id DESC OFFSET ${(PAGE - 1) * LIMIT - 1} LIMIT 1`),
        )
        if (!row) throw new Error(`page ${PAGE} needs more than ${PAGE * LIMIT} published stories`)
        return row
      },
      'info',
    )
    const seedSeconds = (performance.now() - seedStarted) / 1000
    const cursor = createCursorCodec(secretKey).encode('stories.feed', {
      publishedAt: new Date(position!.published_at).toISOString(),
      id: position!.id,
    })

    const server = await startProcess('src/server.ts', {
      DATABASE_URL: scratch.url,
      DATA_DIR: dataDir,
      SECRET_KEY: secretKey,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'info',
      // Both pages from the database (the first page of a list is otherwise cached), and
      // limits no run can reach.
      CACHE_ENABLED: 'false',
      RATE_LIMIT_IP_MAX: '1000000000',
      RATE_LIMIT_READ_MAX: '1000000000',
    })
    const options = { connections: Number(values.connections), seconds: Number(values.seconds) }
    const first = `${server.baseUrl}/v1/stories?limit=${LIMIT}`
    const deep = `${first}&cursor=${encodeURIComponent(cursor)}`
    await load(first, { ...options, seconds: 2 })
    const page1 = await load(first, options)
    const pageDeep = await load(deep, options)
    await server.stop()

    console.log(`seeded ${stories.toLocaleString()} stories in ${seedSeconds.toFixed(0)} s`)
    console.log(row(`page 1 (limit ${LIMIT})`, page1))
    console.log(row(`page ${PAGE.toLocaleString()} (keyset cursor)`, pageDeep))
    console.log(
      `\nmean latency, page ${PAGE.toLocaleString()} / page 1: ${(pageDeep.latency.average / page1.latency.average).toFixed(2)}x`,
    )
  } finally {
    await scratch.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
