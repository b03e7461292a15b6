import { sql } from 'drizzle-orm'
import type { DbOrTx } from '../../platform/db/database.ts'
import { rowsOf } from '../../platform/db/rows.ts'

/** Weight of one like against one view in the score. */
export const LIKE_WEIGHT = 3
/** Hours added to a story's age so brand-new stories do not divide by ~0. */
export const AGE_OFFSET_HOURS = 2
/** How fast scores decay with age. */
export const GRAVITY = 1.5

interface TrendingRow {
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
 * score = (LIKE_WEIGHT × likes + views) / (age_hours + AGE_OFFSET_HOURS) ^ GRAVITY
 * over stories published within the window (a clock-skewed future date counts as age 0). The ranking reads only the covering
 * index stories_trending_idx; rows and authors are joined for the top `limit` alone.
 */
export async function listTrendingStories(db: DbOrTx, windowHours: number, limit: number) {
  const rows = await rowsOf<TrendingRow>(
    db.execute(sql`
      WITH ranked AS (
        SELECT id, (${LIKE_WEIGHT} * like_count + view_count)::float8
                 / power(greatest(extract(epoch FROM (now() - published_at)) / 3600.0, 0) + ${AGE_OFFSET_HOURS}, ${GRAVITY}) AS score,
               published_at
        FROM stories
        WHERE status = 'published' AND deleted_at IS NULL
          AND published_at > now() - make_interval(hours => ${windowHours})
        ORDER BY score DESC, published_at DESC, id DESC
        LIMIT ${limit}
      )
      SELECT s.id, s.title, s.tags, s.like_count, s.view_count, s.published_at, r.score,
             p.id AS author_id, p.username, p.display_name, p.avatar_url
      FROM ranked r
      JOIN stories s ON s.id = r.id
      JOIN profiles p ON p.id = s.author_id
      ORDER BY r.score DESC, r.published_at DESC, r.id DESC`),
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
