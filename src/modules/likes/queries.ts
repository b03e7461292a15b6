import { sql } from 'drizzle-orm'
import type { DbOrTx } from '../../platform/db/database.ts'
import { rowsOf } from '../../platform/db/rows.ts'

export interface LikeOutcome {
  /** False when there is no published, visible story with that id. */
  found: boolean
  likeCount: number
  /** A like row was inserted or deleted (the counter moved); false for a repeated like or unlike. */
  changed: boolean
}

/**
 * Like and unlike are each ONE statement: the like row and the counter change
 * atomically, the counter moves only when a row was inserted or deleted, and the
 * story's row lock is held for one statement rather than a multi-round-trip
 * transaction, so 200 concurrent likes of one story queue briefly instead of
 * exhausting the pool.
 */
export async function addLike(db: DbOrTx, storyId: string, profileId: string): Promise<LikeOutcome> {
  const [row] = await rowsOf<{ found: boolean; changed: number | null; current: number | null }>(
    db.execute(sql`
      WITH story AS (
        SELECT id, like_count FROM stories
        WHERE id = ${storyId} AND status = 'published' AND deleted_at IS NULL
      ), inserted AS (
        INSERT INTO story_likes (story_id, profile_id)
        SELECT id, ${profileId} FROM story ON CONFLICT DO NOTHING RETURNING story_id
      ), counted AS (
        UPDATE stories SET like_count = like_count + 1
        WHERE id IN (SELECT story_id FROM inserted) RETURNING like_count
      )
      SELECT EXISTS (SELECT 1 FROM story) AS found,
             (SELECT like_count FROM counted) AS changed,
             (SELECT like_count FROM story) AS current`),
  )
  return { found: row!.found, likeCount: row!.changed ?? row!.current ?? 0, changed: row!.changed !== null }
}

export async function removeLike(db: DbOrTx, storyId: string, profileId: string): Promise<LikeOutcome> {
  const [row] = await rowsOf<{ found: boolean; changed: number | null; current: number | null }>(
    db.execute(sql`
      WITH story AS (
        SELECT id, like_count FROM stories
        WHERE id = ${storyId} AND status = 'published' AND deleted_at IS NULL
      ), removed AS (
        DELETE FROM story_likes
        WHERE story_id IN (SELECT id FROM story) AND profile_id = ${profileId} RETURNING story_id
      ), counted AS (
        UPDATE stories SET like_count = like_count - 1
        WHERE id IN (SELECT story_id FROM removed) RETURNING like_count
      )
      SELECT EXISTS (SELECT 1 FROM story) AS found,
             (SELECT like_count FROM counted) AS changed,
             (SELECT like_count FROM story) AS current`),
  )
  return { found: row!.found, likeCount: row!.changed ?? row!.current ?? 0, changed: row!.changed !== null }
}
