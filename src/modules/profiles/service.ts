import { LRUCache } from 'lru-cache'
import type { Identity, Principal } from '../../platform/auth/principal.ts'
import { cacheKeys, invalidateAuthor } from '../../platform/cache/keys.ts'
import type { AppContext } from '../../platform/context.ts'
import { isUniqueViolation } from '../../platform/db/errors.ts'
import { AppError } from '../../platform/http/errors.ts'
import { isoTime } from '../../platform/iso-time.ts'
import { TTL_ENTRIES } from '../../platform/lru-ttl.ts'
import type { MaybePromise } from '../../platform/maybe-promise.ts'
import {
  actorOf,
  auditRowOf,
  inAuditedTransaction,
  logAuditRow,
  profileCreatedInsert,
} from '../audit/index.ts'
import {
  findProfileById,
  findProfileByUsername,
  type ProfileRow,
  updateProfile,
  upsertProfileBySubjectAudited,
} from './queries.ts'
import { type MyProfile, type PublicProfile, RESERVED_USERNAMES, type UpdateMe } from './schemas.ts'

type Deps = Pick<AppContext, 'db' | 'cache' | 'config' | 'log' | 'scope'>

/**
 * Subject → profile id, in this process, in front of the shared store (Redis when
 * configured): a hot token's request then makes no round trip for it. The pair never
 * changes while the profile exists; a profile removed behind the service's back (a
 * restore, a manual delete) is forgotten here within PROFILE_CACHE_TTL_S, as in Redis.
 */
const localProfileIds = new WeakMap<object, LRUCache<string, string>>()

function localIdsOf(deps: Deps): LRUCache<string, string> {
  let ids = localProfileIds.get(deps.cache)
  if (!ids) {
    ids = new LRUCache({
      max: 10_000,
      ttl: Math.max(1, deps.config.PROFILE_CACHE_TTL_S) * 1000,
      ...TTL_ENTRIES,
    })
    localProfileIds.set(deps.cache, ids)
  }
  return ids
}

/**
 * The profile of a verified identity, created on its first request; cached briefly.
 * Synchronous when this process knows the id (a returning user's every request).
 */
export function ensureProfile(deps: Deps, identity: Identity): MaybePromise<{ id: string }> {
  const local = deps.config.PROFILE_CACHE_TTL_S > 0 ? localIdsOf(deps) : undefined
  const known = local?.get(identity.subject)
  if (known) return { id: known }
  return loadProfile(deps, identity, local)
}

async function loadProfile(
  deps: Deps,
  identity: Identity,
  local: ReturnType<typeof localIdsOf> | undefined,
): Promise<{ id: string }> {
  const key = cacheKeys.profileBySubject(identity.subject)
  const cached = await deps.cache.get(key)
  if (cached) {
    local?.set(identity.subject, cached)
    return { id: cached }
  }
  const audit = profileCreatedInsert(identity.subject, deps.scope)
  const row = await upsertProfileBySubjectAudited(deps.db, identity.subject, identity.email, audit)
  if (row.created && row.auditId !== null) {
    const event = {
      action: 'profile.created',
      actor: actorOf({ profileId: row.id, subject: identity.subject }),
    }
    const target = { type: 'profile', id: row.id }
    logAuditRow(deps.log, { ...auditRowOf({ ...event, target }, deps.scope), id: row.auditId })
  }
  if (local) {
    local.set(identity.subject, row.id)
    await deps.cache.set(key, row.id, deps.config.PROFILE_CACHE_TTL_S)
  }
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
    createdAt: isoTime(row.createdAt),
  }
}

function toMyProfile(row: ProfileRow, principal: Principal): MyProfile {
  return {
    ...toPublicProfile(row),
    email: row.email,
    roles: principal.roles,
    updatedAt: isoTime(row.updatedAt),
  }
}

export async function getMyProfile(deps: Deps, principal: Principal): Promise<MyProfile> {
  const row = await findProfileById(deps.db, principal.profileId)
  // The cached id outlived its row (a restored backup, a manual delete): forget it.
  if (!row) {
    localProfileIds.get(deps.cache)?.delete(principal.subject)
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
    const row = await inAuditedTransaction(deps, async (tx, record) => {
      const updated = await updateProfile(tx, principal.profileId, changes)
      if (!updated) return undefined
      const fields = Object.keys(changes).filter((k) => changes[k as keyof UpdateMe] !== undefined)
      const target = { type: 'profile', id: principal.profileId }
      await record({ action: 'profile.updated', actor: actorOf(principal), target, details: { fields } })
      return updated
    })
    if (!row) throw new AppError('profile_not_found', 'Your profile no longer exists')
    await invalidateAuthor(deps.cache)
    return toMyProfile(row, principal)
  } catch (err) {
    if (isUniqueViolation(err, 'profiles_username_key')) {
      throw new AppError('username_taken', `The username "${changes.username}" is taken`)
    }
    throw err
  }
}

export async function getPublicProfile(
  deps: Pick<Deps, 'db' | 'cache'>,
  username: string,
): Promise<PublicProfile> {
  const profile = await deps.cache.getOrLoad(
    'profile',
    username,
    async () => {
      const row = await findProfileByUsername(deps.db, username)
      return row && toPublicProfile(row)
    },
    { cacheIf: (p) => p !== undefined },
  )
  if (!profile) throw new AppError('profile_not_found', `No profile @${username}`)
  return profile
}
