import type { Principal } from '../../platform/auth/principal.ts'
import type { AppContext } from '../../platform/context.ts'
import { AppError } from '../../platform/http/errors.ts'
import { adjustLikeCount, deleteLike, findLikeableStory, insertLike } from './queries.ts'

type Deps = Pick<AppContext, 'db'>

export interface LikeState {
  liked: boolean
  likeCount: number
}

/**
 * Like and unlike are idempotent and keep `like_count` exact: the like row and the
 * counter change in one transaction, and the counter moves only when a row did.
 */
export async function setLike(
  deps: Deps,
  principal: Principal,
  storyId: string,
  liked: boolean,
): Promise<LikeState> {
  return deps.db.transaction(async (tx) => {
    const story = await findLikeableStory(tx, storyId)
    if (!story) throw new AppError('story_not_found', `No story ${storyId}`)
    const changed = liked
      ? await insertLike(tx, storyId, principal.profileId)
      : await deleteLike(tx, storyId, principal.profileId)
    const likeCount = changed ? await adjustLikeCount(tx, storyId, liked ? 1 : -1) : story.likeCount
    return { liked, likeCount }
  })
}
