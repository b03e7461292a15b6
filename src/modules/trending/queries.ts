import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../platform/db/database.ts'
import { profiles } from '../profiles/index.ts'
import { stories } from '../stories/index.ts'

/** Weight of one like against one view in the score. */
export const LIKE_WEIGHT = 3
/** Hours added to a story's age so brand-new stories do not divide by ~0. */
export const AGE_OFFSET_HOURS = 2
/** How fast scores decay with age. */
export const GRAVITY = 1.5

/**
 * score = (LIKE_WEIGHT × likes + views) / (age_hours + AGE_OFFSET_HOURS) ^ GRAVITY
 * over stories published within the window; the partial feed index bounds the scan
 * to the window's stories.
 */
export async function listTrendingStories(db: DbOrTx, windowHours: number, limit: number) {
  const ageHours = sql`extract(epoch from (now() - ${stories.publishedAt})) / 3600.0`
  const score = sql<number>`((${LIKE_WEIGHT} * ${stories.likeCount} + ${stories.viewCount})::float8
    / power(${ageHours} + ${AGE_OFFSET_HOURS}, ${GRAVITY}))`
  return db
    .select({
      id: stories.id,
      title: stories.title,
      tags: stories.tags,
      likeCount: stories.likeCount,
      viewCount: stories.viewCount,
      publishedAt: stories.publishedAt,
      score: score.mapWith(Number),
      author: {
        id: profiles.id,
        username: profiles.username,
        displayName: profiles.displayName,
        avatarUrl: profiles.avatarUrl,
      },
    })
    .from(stories)
    .innerJoin(profiles, eq(profiles.id, stories.authorId))
    .where(
      and(
        eq(stories.status, 'published'),
        isNull(stories.deletedAt),
        gt(stories.publishedAt, sql`now() - make_interval(hours => ${windowHours})`),
      ),
    )
    .orderBy(desc(score), desc(stories.publishedAt), desc(stories.id))
    .limit(limit)
}
