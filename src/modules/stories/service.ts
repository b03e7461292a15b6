import { uuidv7 } from 'uuidv7'
import type { Principal } from '../../platform/auth/principal.ts'
import type { AppContext } from '../../platform/context.ts'
import { AppError } from '../../platform/http/errors.ts'
import { adjustPublishedStoryCount, findProfileIdByUsername } from '../profiles/index.ts'
import {
  type FeedPosition,
  findStory,
  findStoryOwnership,
  insertStory,
  listPublishedStories,
  publishOwnDraft,
  type StoryRow,
  softDeleteStory,
  updateOwnStory,
} from './queries.ts'
import type { CreateStory, Story, StoryListItem, UpdateStory } from './schemas.ts'

type Deps = Pick<AppContext, 'db' | 'cursors'>

const notFound = (id: string) => new AppError('story_not_found', `No story ${id}`)

export function toStory(row: StoryRow): Story {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    tags: row.tags,
    status: row.status,
    author: row.author,
    likeCount: row.likeCount,
    viewCount: row.viewCount,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    publishedAt: row.publishedAt?.toISOString() ?? null,
  }
}

/** Published stories are public; drafts and removed stories exist only for their author. */
function canRead(row: { authorId: string; status: string }, principal: Principal | null): boolean {
  return row.status === 'published' || row.authorId === principal?.profileId
}

export async function createStory(deps: Deps, principal: Principal, input: CreateStory): Promise<Story> {
  const id = uuidv7()
  await insertStory(deps.db, { id, authorId: principal.profileId, ...input, tags: input.tags ?? [] })
  return loadOwnStory(deps, id)
}

async function loadOwnStory(deps: Deps, id: string): Promise<Story> {
  const row = await findStory(deps.db, id)
  if (!row) throw notFound(id)
  return toStory(row)
}

export async function getStory(deps: Deps, principal: Principal | null, id: string): Promise<StoryRow> {
  const row = await findStory(deps.db, id)
  if (!row || !canRead(row, principal)) throw notFound(id)
  return row
}

/**
 * After a write guarded by `author_id = me` matched nothing, say why without leaking
 * a draft's existence: someone else's published story is a 403, anything else a 404.
 */
async function explainMiss(deps: Deps, principal: Principal, id: string): Promise<never> {
  const owner = await findStoryOwnership(deps.db, id)
  if (owner && owner.status === 'published' && owner.authorId !== principal.profileId) {
    throw new AppError('forbidden', 'Only the author can change this story')
  }
  throw notFound(id)
}

export async function updateStory(deps: Deps, principal: Principal, id: string, changes: UpdateStory) {
  const updated = await updateOwnStory(deps.db, id, principal.profileId, changes)
  if (!updated) await explainMiss(deps, principal, id)
  return loadOwnStory(deps, id)
}

export async function publishStory(deps: Deps, principal: Principal, id: string): Promise<Story> {
  const published = await deps.db.transaction(async (tx) => {
    const row = await publishOwnDraft(tx, id, principal.profileId)
    if (row) await adjustPublishedStoryCount(tx, principal.profileId, 1)
    return row
  })
  if (!published) {
    // Publishing one's own already-published story is a no-op, not an error.
    const owner = await findStoryOwnership(deps.db, id)
    if (!(owner?.authorId === principal.profileId && owner.status === 'published')) {
      await explainMiss(deps, principal, id)
    }
  }
  return loadOwnStory(deps, id)
}

export async function deleteStory(deps: Deps, principal: Principal, id: string): Promise<void> {
  const owner = await findStoryOwnership(deps.db, id)
  if (!owner) throw notFound(id)
  if (owner.authorId !== principal.profileId && !principal.isAdmin) {
    if (owner.status === 'published')
      throw new AppError('forbidden', 'Only the author or an admin can delete this story')
    throw notFound(id)
  }
  const deleted = await deps.db.transaction(async (tx) => {
    const row = await softDeleteStory(tx, id)
    if (row?.status === 'published') await adjustPublishedStoryCount(tx, row.authorId, -1)
    return row
  })
  // Deleted concurrently by someone else between the check and the write.
  if (!deleted) throw notFound(id)
}

const FEED = 'stories.feed'

export async function listStories(
  deps: Deps,
  query: { limit: number; cursor?: string | undefined; tag?: string | undefined },
  author?: { username: string; mustExist: boolean },
): Promise<{ items: StoryListItem[]; nextCursor: string | null }> {
  const after = query.cursor ? deps.cursors.decode<FeedPosition>(FEED, query.cursor) : undefined
  if (after && (typeof after.publishedAt !== 'string' || typeof after.id !== 'string')) {
    throw new AppError('invalid_cursor')
  }
  let authorId: string | undefined
  if (author) {
    authorId = await findProfileIdByUsername(deps.db, author.username)
    if (!authorId && author.mustExist)
      throw new AppError('profile_not_found', `No profile @${author.username}`)
    if (!authorId) return { items: [], nextCursor: null }
  }
  const rows = await listPublishedStories(deps.db, { limit: query.limit, after, authorId, tag: query.tag })
  const page = rows.slice(0, query.limit)
  const last = page.at(-1)
  const nextCursor =
    rows.length > query.limit && last
      ? deps.cursors.encode(FEED, { publishedAt: last.publishedAt!.toISOString(), id: last.id })
      : null
  return {
    items: page.map((r) => ({ ...r, publishedAt: r.publishedAt!.toISOString() })),
    nextCursor,
  }
}
