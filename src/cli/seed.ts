import { randomInt } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import { uuidv7 } from 'uuidv7'
import type { Database } from '../platform/db/database.ts'
import { rowsOf } from '../platform/db/rows.ts'

const FIRST = [
  'ada',
  'alan',
  'grace',
  'linus',
  'margaret',
  'ken',
  'barbara',
  'dennis',
  'frances',
  'edsger',
  'radia',
  'tim',
  'hedy',
  'john',
  'katherine',
  'donald',
  'sophie',
  'niklaus',
  'annie',
  'claude',
]
const WORDS =
  'the a river quiet morning city light over under through old new small bright winter summer letter house garden road story train window night dream stone sea forest bird song memory friend stranger return journey silence voice fire harbor map clock rain snow lantern bridge island mountain valley echo secret promise'.split(
    ' ',
  )
const TAGS = [
  'fiction',
  'poetry',
  'travel',
  'memoir',
  'science',
  'history',
  'humor',
  'fantasy',
  'mystery',
  'romance',
  'horror',
  'essay',
  'nature',
  'tech',
  'food',
]

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)]!

function sentence(minWords: number, maxWords: number): string {
  const words = Array.from({ length: minWords + randomInt(maxWords - minWords + 1) }, () => pick(WORDS))
  const text = words.join(' ')
  return text[0]!.toUpperCase() + text.slice(1)
}

function storyBody(): string {
  return Array.from({ length: 2 + randomInt(4) }, () =>
    Array.from({ length: 2 + randomInt(4) }, () => `${sentence(6, 16)}.`).join(' '),
  ).join('\n\n')
}

export interface SeedOptions {
  users: number
  stories: number
  batchSize?: number
}

const DAY_MS = 86_400_000

/**
 * Inserts realistic demo data in large batches (one statement per batch, rows
 * passed as one JSON parameter), so a million stories take minutes on PostgreSQL.
 * Like counts equal the like rows inserted, and profile counters are recomputed.
 */
export async function seedData(database: Database, log: Logger, options: SeedOptions): Promise<void> {
  const { db } = database
  const batchSize = options.batchSize ?? 5000
  const runTag = uuidv7().slice(-8)
  const userIds: string[] = []
  for (let start = 0; start < options.users; start += batchSize) {
    const rows = Array.from({ length: Math.min(batchSize, options.users - start) }, (_, k) => {
      const i = start + k
      const id = uuidv7()
      userIds.push(id)
      const first = pick(FIRST)
      return {
        id,
        subject: `seed|${runTag}|${i}`,
        username: `${first}_${runTag}_${i}`.slice(0, 30),
        display_name: `${first[0]!.toUpperCase()}${first.slice(1)} ${i}`,
        bio: sentence(5, 20),
      }
    })
    await db.execute(sql`
      INSERT INTO profiles (id, subject, username, display_name, bio)
      SELECT id, subject, username, display_name, bio
      FROM json_to_recordset(${JSON.stringify(rows)}::json)
        AS r(id uuid, subject text, username text, display_name text, bio text)`)
  }
  if (userIds.length === 0) {
    const existing = await rowsOf<{ id: string }>(db.execute(sql`SELECT id FROM profiles LIMIT 10000`))
    userIds.push(...existing.map((r) => r.id))
  }
  if (userIds.length === 0 && options.stories > 0) throw new Error('seeding stories needs at least one user')

  const now = Date.now()
  let done = 0
  for (let start = 0; start < options.stories; start += batchSize) {
    const stories: Array<Record<string, unknown>> = []
    const likes: Array<{ s: string; p: string }> = []
    for (let k = 0; k < Math.min(batchSize, options.stories - start); k++) {
      const id = uuidv7()
      const published = randomInt(10) < 9
      const createdAt = now - randomInt(30 * DAY_MS)
      const likers = new Set<string>()
      if (published) for (let n = randomInt(6); n > 0; n--) likers.add(pick(userIds))
      for (const p of likers) likes.push({ s: id, p })
      stories.push({
        id,
        author_id: pick(userIds),
        title: sentence(2, 8),
        body: storyBody(),
        tags: Array.from(new Set(Array.from({ length: randomInt(4) }, () => pick(TAGS)))),
        status: published ? 'published' : 'draft',
        like_count: likers.size,
        view_count: published ? randomInt(500) : 0,
        created_at: new Date(createdAt).toISOString(),
        published_at: published
          ? new Date(Math.min(now, createdAt + randomInt(DAY_MS / 4))).toISOString()
          : null,
      })
    }
    await db.transaction(async (tx) => {
      await tx.execute(sql`
        INSERT INTO stories (id, author_id, title, body, tags, status, like_count, view_count, created_at, updated_at, published_at)
        SELECT id, author_id, title, body, tags, status, like_count, view_count, created_at, created_at, published_at
        FROM json_to_recordset(${JSON.stringify(stories)}::json)
          AS r(id uuid, author_id uuid, title text, body text, tags text[], status text, like_count int,
               view_count bigint, created_at timestamptz, published_at timestamptz)`)
      if (likes.length > 0) {
        await tx.execute(sql`
          INSERT INTO story_likes (story_id, profile_id)
          SELECT s, p FROM json_to_recordset(${JSON.stringify(likes)}::json) AS r(s uuid, p uuid)`)
      }
    })
    done += stories.length
    if (done % 100_000 < batchSize) log.info({ stories: done }, 'seeding')
  }
  await db.execute(sql`
    UPDATE profiles p SET published_story_count = c.n
    FROM (SELECT author_id, count(*)::int AS n FROM stories
          WHERE status = 'published' AND deleted_at IS NULL GROUP BY author_id) c
    WHERE p.id = c.author_id AND p.published_story_count <> c.n`)
  // As autovacuum would after a bulk load: fresh statistics, and a visibility map that
  // lets index-only scans (trending) skip the heap.
  if (database.kind === 'postgres') await db.execute(sql`VACUUM (ANALYZE) profiles, stories, story_likes`)
  log.info({ users: options.users, stories: options.stories }, 'seed complete')
}

/** First start of an empty embedded store: a small demo dataset to explore. */
export async function seedDemoIfEmpty(database: Database, log: Logger): Promise<void> {
  if (database.kind !== 'pglite') return
  const [row] = await rowsOf<{ n: number }>(database.db.execute(sql`SELECT count(*)::int AS n FROM profiles`))
  if ((row?.n ?? 0) > 0) return
  await seedData(database, log, { users: 12, stories: 60 })
}
