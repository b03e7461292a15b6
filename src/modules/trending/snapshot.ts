import { sql } from 'drizzle-orm'
import type { DbOrTx } from '../../platform/db/database.ts'
import { rowsOf } from '../../platform/db/rows.ts'
import { AGE_OFFSET_HOURS, GRAVITY, LIKE_WEIGHT } from './queries.ts'

/** How many stories a snapshot keeps per window (the most a request may ask for). */
export const SNAPSHOT_SIZE = 100

export interface Ranked {
  id: string
  score: number
}

/** The window's best stories by score, ids and scores only: an index-only scan of stories_trending_idx. */
export async function rankStories(db: DbOrTx, windowHours: number): Promise<Ranked[]> {
  const rows = await rowsOf<{ id: string; score: number }>(
    db.execute(sql`
      SELECT id, (${LIKE_WEIGHT} * like_count + view_count)::float8
               / power(greatest(extract(epoch FROM (now() - published_at)) / 3600.0, 0) + ${AGE_OFFSET_HOURS}, ${GRAVITY}) AS score
      FROM stories
      WHERE status = 'published' AND deleted_at IS NULL
        AND published_at > now() - make_interval(hours => ${windowHours})
      ORDER BY score DESC, published_at DESC, id DESC
      LIMIT ${SNAPSHOT_SIZE}`),
  )
  return rows.map((r) => ({ id: r.id, score: Number(r.score) }))
}

/** Replaces a window's snapshot; call inside a transaction so readers never see it half-written. */
export async function replaceSnapshot(tx: DbOrTx, window: string, ranked: Ranked[]): Promise<void> {
  await tx.execute(sql`DELETE FROM trending_snapshot WHERE time_window = ${window}`)
  if (ranked.length === 0) return
  const rows = ranked.map((r, i) => ({ rank: i + 1, id: r.id, score: r.score }))
  await tx.execute(sql`
    INSERT INTO trending_snapshot (time_window, rank, story_id, score)
    SELECT ${window}, r.rank, r.id, r.score
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r(rank int, id uuid, score float8)`)
}

/** A window's snapshot, best first; undefined when none was computed yet. */
export async function readSnapshot(db: DbOrTx, window: string): Promise<Ranked[] | undefined> {
  const rows = await rowsOf<{ story_id: string; score: number }>(
    db.execute(
      sql`SELECT story_id, score FROM trending_snapshot WHERE time_window = ${window} ORDER BY rank`,
    ),
  )
  return rows.length === 0 ? undefined : rows.map((r) => ({ id: r.story_id, score: Number(r.score) }))
}

interface HydratedRow {
  id: string
  title: string
  tags: string[]
  like_count: number
  view_count: string | number
  published_at: Date | string
  score: number
  author_id: string
  username: string
  display_name: string | null
  avatar_url: string | null
}

/**
 * Current rows for a ranking, in its order: a story deleted or unpublished since the
 * snapshot drops out at once; counts are today's, the order is the snapshot's.
 */
export async function hydrateRanking(db: DbOrTx, ranked: Ranked[], limit: number) {
  const wanted = ranked.slice(0, limit).map((r, i) => ({ rank: i + 1, id: r.id, score: r.score }))
  if (wanted.length === 0) return []
  const rows = await rowsOf<HydratedRow>(
    db.execute(sql`
      SELECT s.id, s.title, s.tags, s.like_count, s.view_count, s.published_at, r.score,
             p.id AS author_id, p.username, p.display_name, p.avatar_url
      FROM json_to_recordset(${JSON.stringify(wanted)}::json) AS r(rank int, id uuid, score float8)
      JOIN stories s ON s.id = r.id AND s.status = 'published' AND s.deleted_at IS NULL
      JOIN profiles p ON p.id = s.author_id
      ORDER BY r.rank`),
  )
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    tags: r.tags,
    likeCount: r.like_count,
    viewCount: Number(r.view_count),
    publishedAt: new Date(r.published_at),
    score: Number(r.score),
    author: { id: r.author_id, username: r.username, displayName: r.display_name, avatarUrl: r.avatar_url },
  }))
}
