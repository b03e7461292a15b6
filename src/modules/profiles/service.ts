import type { Identity, Principal } from '../../platform/auth/principal.ts'
import { cacheKeys } from '../../platform/cache/keys.ts'
import type { AppContext } from '../../platform/context.ts'
import { isUniqueViolation } from '../../platform/db/errors.ts'
import { AppError } from '../../platform/http/errors.ts'
import {
  findProfileById,
  findProfileByUsername,
  type ProfileRow,
  updateProfile,
  upsertProfileBySubject,
} from './queries.ts'
import { type MyProfile, type PublicProfile, RESERVED_USERNAMES, type UpdateMe } from './schemas.ts'

type Deps = Pick<AppContext, 'db' | 'cache' | 'config' | 'log'>

/** The profile of a verified identity, created on its first request; cached briefly. */
export async function ensureProfile(deps: Deps, identity: Identity): Promise<{ id: string }> {
  const key = cacheKeys.profileBySubject(identity.subject)
  const cached = await deps.cache.get(key)
  if (cached) return { id: cached }
  const row = await upsertProfileBySubject(deps.db, identity.subject, identity.email)
  if (row.created) deps.log.info({ profileId: row.id }, 'profile created')
  if (deps.config.PROFILE_CACHE_TTL_S > 0) await deps.cache.set(key, row.id, deps.config.PROFILE_CACHE_TTL_S)
  return { id: row.id }
}

export function toPublicProfile(row: ProfileRow): PublicProfile {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    bio: row.bio,
    avatarUrl: row.avatarUrl,
    publishedStoryCount: row.publishedStoryCount,
    createdAt: row.createdAt.toISOString(),
  }
}

function toMyProfile(row: ProfileRow, principal: Principal): MyProfile {
  return {
    ...toPublicProfile(row),
    email: row.email,
    roles: principal.roles,
    updatedAt: row.updatedAt.toISOString(),
  }
}

export async function getMyProfile(deps: Deps, principal: Principal): Promise<MyProfile> {
  const row = await findProfileById(deps.db, principal.profileId)
  // The cached id outlived its row (a restored backup, a manual delete): forget it.
  if (!row) {
    await deps.cache.del(cacheKeys.profileBySubject(principal.subject))
    throw new AppError('profile_not_found', 'Your profile no longer exists; retry to recreate it')
  }
  return toMyProfile(row, principal)
}

export async function updateMyProfile(
  deps: Deps,
  principal: Principal,
  changes: UpdateMe,
): Promise<MyProfile> {
  if (changes.username !== undefined && RESERVED_USERNAMES.has(changes.username)) {
    throw new AppError('validation_failed', 'That username is reserved', {
      errors: [{ field: 'body.username', message: 'is reserved' }],
    })
  }
  try {
    const row = await updateProfile(deps.db, principal.profileId, changes)
    if (!row) throw new AppError('profile_not_found', 'Your profile no longer exists')
    return toMyProfile(row, principal)
  } catch (err) {
    if (isUniqueViolation(err, 'profiles_username_key')) {
      throw new AppError('username_taken', `The username "${changes.username}" is taken`)
    }
    throw err
  }
}

export async function getPublicProfile(deps: Pick<Deps, 'db'>, username: string): Promise<PublicProfile> {
  const row = await findProfileByUsername(deps.db, username)
  if (!row) throw new AppError('profile_not_found', `No profile @${username}`)
  return toPublicProfile(row)
}
