import type { Principal } from '../../platform/auth/principal.ts'
import { invalidateStory } from '../../platform/cache/keys.ts'
import type { AppContext } from '../../platform/context.ts'
import { AppError } from '../../platform/http/errors.ts'
import { addLike, removeLike } from './queries.ts'

type Deps = Pick<AppContext, 'db' | 'cache' | 'scope'>

export interface LikeState {
  liked: boolean
  likeCount: number
}

/** Idempotent: liking twice, or unliking what was never liked, changes nothing. */
export async function setLike(
  deps: Deps,
  principal: Principal,
  storyId: string,
  liked: boolean,
): Promise<LikeState> {
  const outcome = liked
    ? await addLike(deps.db, storyId, principal.profileId)
    : await removeLike(deps.db, storyId, principal.profileId)
  if (!outcome.found) throw new AppError('story_not_found', `No story ${storyId}`)
  // Before answering: the next read through any instance must show the new count. The
  // story, list pages and trending all show like counts; a repeated like changed none.
  if (outcome.changed) await invalidateStory(deps.cache, storyId)
  return { liked, likeCount: outcome.likeCount }
}
