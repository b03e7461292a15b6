import { and, eq, isNull, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../platform/db/database.ts'
import { stories } from '../stories/index.ts'
import { storyLikes } from './likes.table.ts'

const likeable = (storyId: string) =>
  and(eq(stories.id, storyId), eq(stories.status, 'published'), isNull(stories.deletedAt))

/** The like count of a published, visible story; undefined when there is no such story. */
export async function findLikeableStory(db: DbOrTx, storyId: string) {
  const [row] = await db
    .select({ likeCount: stories.likeCount })
    .from(stories)
    .where(likeable(storyId))
    .limit(1)
  return row
}

/** Inserts the like if absent; true when it was new. The primary key makes this idempotent. */
export async function insertLike(db: DbOrTx, storyId: string, profileId: string): Promise<boolean> {
  const rows = await db.insert(storyLikes).values({ storyId, profileId }).onConflictDoNothing().returning({
    storyId: storyLikes.storyId,
  })
  return rows.length > 0
}

export async function deleteLike(db: DbOrTx, storyId: string, profileId: string): Promise<boolean> {
  const rows = await db
    .delete(storyLikes)
    .where(and(eq(storyLikes.storyId, storyId), eq(storyLikes.profileId, profileId)))
    .returning({ storyId: storyLikes.storyId })
  return rows.length > 0
}

/** Atomic increment: concurrent likes never lose an update. */
export async function adjustLikeCount(db: DbOrTx, storyId: string, delta: 1 | -1): Promise<number> {
  const [row] = await db
    .update(stories)
    .set({ likeCount: sql`${stories.likeCount} + ${delta}` })
    .where(eq(stories.id, storyId))
    .returning({ likeCount: stories.likeCount })
  return row!.likeCount
}
