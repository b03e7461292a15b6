import { and, desc, eq, isNull, type SQL, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../platform/db/database.ts'
import { hotQuery } from '../../platform/db/prepared.ts'
import { profiles } from '../profiles/index.ts'
import { EXCERPT_LENGTH } from './schemas.ts'
import { stories } from './stories.table.ts'

const author = {
  id: profiles.id,
  username: profiles.username,
  displayName: profiles.displayName,
  avatarUrl: profiles.avatarUrl,
}

const storyColumns = {
  id: stories.id,
  authorId: stories.authorId,
  title: stories.title,
  body: stories.body,
  tags: stories.tags,
  status: stories.status,
  likeCount: stories.likeCount,
  viewCount: stories.viewCount,
  version: stories.version,
  createdAt: stories.createdAt,
  updatedAt: stories.updatedAt,
  publishedAt: stories.publishedAt,
  wordCount: stories.wordCount,
  readingTimeMinutes: stories.readingTimeMinutes,
  excerpt: stories.excerpt,
  author,
}

const visible = isNull(stories.deletedAt)
const publishedAndVisible = and(eq(stories.status, 'published'), visible)

export async function insertStory(
  db: DbOrTx,
  values: { id: string; authorId: string; title: string; body: string; tags: string[] },
) {
  await db.insert(stories).values(values)
}

const storyById = hotQuery('inkwell_story_by_id', (db) =>
  db
    .select(storyColumns)
    .from(stories)
    .innerJoin(profiles, eq(profiles.id, stories.authorId))
    .where(and(eq(stories.id, sql.placeholder('id')), visible))
    .limit(1),
)

/** A story that is not deleted, with its author; one statement (named prepared where enabled). */
export async function findStory(db: DbOrTx, id: string) {
  const [row] = await storyById(db, { id })
  return row
}
export type StoryRow = NonNullable<Awaited<ReturnType<typeof findStory>>>

/** Who owns a story and in what state, to tell 403 from 404 after a guarded write matched nothing. */
export async function findStoryOwnership(db: DbOrTx, id: string) {
  const [row] = await db
    .select({ authorId: stories.authorId, status: stories.status, version: stories.version })
    .from(stories)
    .where(and(eq(stories.id, id), visible))
    .limit(1)
  return row
}

const ownedBy = (id: string, authorId: string) =>
  and(eq(stories.id, id), eq(stories.authorId, authorId), visible)

export async function updateOwnStory(
  db: DbOrTx,
  id: string,
  authorId: string,
  changes: { title?: string; body?: string; tags?: string[] },
  expectedVersion?: number,
) {
  const guard = ownedBy(id, authorId)
  const [row] = await db
    .update(stories)
    .set({ ...changes, version: sql`${stories.version} + 1`, updatedAt: sql`now()` })
    .where(expectedVersion === undefined ? guard : and(guard, eq(stories.version, expectedVersion)))
    .returning({ id: stories.id })
  return row
}

/** Draft → published; matches nothing when the story is not the author's draft. */
export async function publishOwnDraft(db: DbOrTx, id: string, authorId: string) {
  const [row] = await db
    .update(stories)
    .set({
      status: 'published',
      publishedAt: sql`now()`,
      updatedAt: sql`now()`,
      version: sql`${stories.version} + 1`,
    })
    .where(and(ownedBy(id, authorId), eq(stories.status, 'draft')))
    .returning({ id: stories.id })
  return row
}

export async function softDeleteStory(db: DbOrTx, id: string) {
  const [row] = await db
    .update(stories)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()`, version: sql`${stories.version} + 1` })
    .where(and(eq(stories.id, id), visible))
    .returning({ authorId: stories.authorId, status: stories.status })
  return row
}

export interface FeedPosition {
  publishedAt: string
  id: string
}

export interface FeedFilter {
  limit: number
  after?: FeedPosition | undefined
  authorId?: string | undefined
  tag?: string | undefined
}

const feedColumns = {
  id: stories.id,
  title: stories.title,
  excerpt: sql<string>`coalesce(${stories.excerpt}, left(${stories.body}, ${sql.raw(String(EXCERPT_LENGTH))}))`,
  tags: stories.tags,
  likeCount: stories.likeCount,
  viewCount: stories.viewCount,
  publishedAt: stories.publishedAt,
  author,
}

/** Sorts after every real position, so the first page is the same statement as the others. */
const BEFORE_EVERYTHING: FeedPosition = {
  publishedAt: 'infinity',
  id: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
}

const before = (at: unknown, id: unknown) =>
  sql`(${stories.publishedAt}, ${stories.id}) < (${at}::timestamptz, ${id}::uuid)`

const unfilteredFeed = hotQuery('inkwell_feed_page', (db) =>
  db
    .select(feedColumns)
    .from(stories)
    .innerJoin(profiles, eq(profiles.id, stories.authorId))
    .where(and(publishedAndVisible, before(sql.placeholder('afterAt'), sql.placeholder('afterId'))))
    .orderBy(desc(stories.publishedAt), desc(stories.id))
    .limit(sql.placeholder('limit')),
)

/**
 * Published stories, newest first, keyset-paginated on (published_at, id): the
 * row comparison walks the partial index, so page 10,000 costs what page 1 does.
 * Fetches one row more than asked to know whether a next page exists.
 */
export async function listPublishedStories(db: DbOrTx, filter: FeedFilter) {
  const after = filter.after ?? BEFORE_EVERYTHING
  if (!filter.authorId && !filter.tag) {
    return unfilteredFeed(db, { afterAt: after.publishedAt, afterId: after.id, limit: filter.limit + 1 })
  }
  const conditions: (SQL | undefined)[] = [publishedAndVisible, before(after.publishedAt, after.id)]
  if (filter.authorId) conditions.push(eq(stories.authorId, filter.authorId))
  if (filter.tag) conditions.push(sql`${stories.tags} @> ARRAY[${filter.tag}]::text[]`)
  return db
    .select(feedColumns)
    .from(stories)
    .innerJoin(profiles, eq(profiles.id, stories.authorId))
    .where(and(...conditions))
    .orderBy(desc(stories.publishedAt), desc(stories.id))
    .limit(filter.limit + 1)
}

/** Adds aggregated view counts in one statement. */
export async function addStoryViews(db: DbOrTx, counts: Array<{ id: string; n: number }>) {
  if (counts.length === 0) return
  await db.execute(sql`
    UPDATE stories AS s SET view_count = s.view_count + v.n
    FROM json_to_recordset(${JSON.stringify(counts)}::json) AS v(id uuid, n int)
    WHERE s.id = v.id`)
}
