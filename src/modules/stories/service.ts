import { uuidv7 } from 'uuidv7'
import type { Principal } from '../../platform/auth/principal.ts'
import { cacheKeys, invalidateStory } from '../../platform/cache/keys.ts'
import type { AppContext } from '../../platform/context.ts'
import type { DbOrTx } from '../../platform/db/database.ts'
import { AppError } from '../../platform/http/errors.ts'
import { type IdempotentResult, runIdempotent } from '../../platform/idempotency/idempotency.ts'
import { isoTime } from '../../platform/iso-time.ts'
import { addToOutbox } from '../../platform/jobs/index.ts'
import { isPromise, type MaybePromise } from '../../platform/maybe-promise.ts'
import { memoOn } from '../../platform/memo-on.ts'
import {
  type AuditEvent,
  actorOf,
  inAuditedTransaction,
  insertAuditRow,
  logAuditRow,
} from '../audit/index.ts'
import { adjustPublishedStoryCount, findProfileIdByUsername } from '../profiles/index.ts'
import { storyCaching } from './cache.ts'
import { PROCESS_STORY_JOB } from './process-job.ts'
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

type Deps = Pick<AppContext, 'db' | 'database' | 'cursors' | 'jobs' | 'log' | 'cache' | 'scope'>

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
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
    publishedAt: row.publishedAt ? isoTime(row.publishedAt) : null,
    wordCount: row.wordCount,
    readingTimeMinutes: row.readingTimeMinutes,
    excerpt: row.excerpt,
  }
}

interface Representation {
  story: Story
  etag: string
  /** The story as the read route serializes it; set by that route on first use. */
  json?: string
}

const REPRESENTATION = Symbol('story representation')

/**
 * A row's API form and its ETag. Cached rows are shared by reference (and replaced, not
 * changed, when the story changes), so a hot story is converted once, not per read.
 */
export function representationOf(row: StoryRow): Representation {
  return memoOn(row, REPRESENTATION, buildRepresentation)
}

function buildRepresentation(row: StoryRow): Representation {
  const story = toStory(row)
  // The row's own Date: parsing the ISO string back costs about as much as the rest of the tag.
  return { story, etag: etagOf(story, row.updatedAt.getTime()) }
}

/** Published stories are public; drafts and removed stories exist only for their author. */
function canRead(row: { authorId: string; status: string }, principal: Principal | null): boolean {
  return row.status === 'published' || row.authorId === principal?.profileId
}

async function insertAndLoad(db: DbOrTx, principal: Principal, input: CreateStory): Promise<Story> {
  const id = uuidv7()
  await insertStory(db, { id, authorId: principal.profileId, ...input, tags: input.tags ?? [] })
  const row = await findStory(db, id)
  if (!row) throw notFound(id)
  return toStory(row)
}

/**
 * Creates a draft. With an Idempotency-Key, the story and the key's record are
 * written in one transaction, and a retry gets the first response back.
 */
export async function createStory(
  deps: Deps,
  principal: Principal,
  input: CreateStory,
  idempotency?: { key: string; hash: string },
): Promise<IdempotentResult> {
  const respond = (story: Story) => ({ status: 201, body: story, location: `/v1/stories/${story.id}` })
  const created = (story: Story): AuditEvent => ({
    action: 'story.created',
    actor: actorOf(principal),
    target: { type: 'story', id: story.id },
    details: idempotency ? { idempotencyKey: true } : {},
  })
  if (!idempotency) {
    const story = await inAuditedTransaction(deps, async (tx, record) => {
      const inserted = await insertAndLoad(tx, principal, input)
      await record(created(inserted))
      return inserted
    })
    return { ...respond(story), replayed: false }
  }
  // runIdempotent owns the transaction; the audit row joins it, and is logged once committed.
  let auditRow: Awaited<ReturnType<typeof insertAuditRow>> | undefined
  const result = await runIdempotent(deps.db, { subject: principal.subject, ...idempotency }, async (tx) => {
    const story = await insertAndLoad(tx, principal, input)
    auditRow = await insertAuditRow(tx, created(story), deps.scope)
    return respond(story)
  })
  if (auditRow && !result.replayed) logAuditRow(deps.log, auditRow)
  return result
}

async function loadOwnStory(deps: Deps, id: string): Promise<Story> {
  const row = await findStory(deps.db, id)
  if (!row) throw notFound(id)
  return toStory(row)
}

/**
 * The story's entity tag: it changes whenever the representation does (edits, publish,
 * likes, views). Its `v<version>` prefix is what If-Match preconditions compare. The
 * parts are public fields of the story, so they are written out rather than hashed: a
 * hash per read cost more than the rest of building the tag. In decimal: V8 writes a
 * number in base 36 with a floating-point remainder (libm's fmod) per digit, eight for
 * the timestamp, about 1,500 instructions and 95 mispredicted branches per read under
 * callgrind's simulation; decimal integers come from V8's number-string cache.
 */
export function etagOf(story: Story, updatedMs = Date.parse(story.updatedAt)): string {
  const derived = story.wordCount === null ? 'n' : story.wordCount
  return `"v${story.version}-${updatedMs}-${story.likeCount}-${story.viewCount}-${story.status[0]}${derived}"`
}

/** The content version an If-Match names; undefined for `*` (any version). */
export function versionFromIfMatch(header: string): number | undefined {
  if (header.trim() === '*') return undefined
  const match = /^\s*(?:W\/)?"v(\d{1,9})-[A-Za-z0-9_-]*"\s*$/.exec(header)
  if (!match) throw new AppError('precondition_failed', 'If-Match does not name a version of this story')
  return Number(match[1])
}

/** A story `principal` may read; without a promise when it is in the local cache. */
export function getStory(deps: Deps, principal: Principal | null, id: string): MaybePromise<StoryRow> {
  // Drafts are never stored (storyCaching), so canRead always sees a fresh draft row.
  const row = deps.cache.getOrLoad('story', id, () => findStory(deps.db, id), storyCaching)
  return isPromise(row)
    ? row.then((found) => readableOr404(found, principal, id))
    : readableOr404(row, principal, id)
}

function readableOr404(row: StoryRow | undefined, principal: Principal | null, id: string): StoryRow {
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

export async function updateStory(
  deps: Deps,
  principal: Principal,
  id: string,
  changes: UpdateStory,
  expectedVersion?: number,
): Promise<Story> {
  const updated = await inAuditedTransaction(deps, async (tx, record) => {
    const row = await updateOwnStory(tx, id, principal.profileId, changes, expectedVersion)
    const fields = Object.keys(changes).filter((k) => changes[k as keyof UpdateStory] !== undefined)
    const target = { type: 'story', id }
    if (row) await record({ action: 'story.updated', actor: actorOf(principal), target, details: { fields } })
    return row
  })
  if (!updated) {
    const owner = await findStoryOwnership(deps.db, id)
    if (
      owner?.authorId === principal.profileId &&
      expectedVersion !== undefined &&
      owner.version !== expectedVersion
    ) {
      throw new AppError('precondition_failed', 'The story changed since you read it; fetch it again')
    }
    await explainMiss(deps, principal, id)
  }
  await invalidateStory(deps.cache, id)
  return loadOwnStory(deps, id)
}

export async function publishStory(deps: Deps, principal: Principal, id: string): Promise<Story> {
  const published = await inAuditedTransaction(deps, async (tx, record) => {
    const row = await publishOwnDraft(tx, id, principal.profileId)
    if (row) await adjustPublishedStoryCount(tx, principal.profileId, 1)
    if (row)
      await record({ action: 'story.published', actor: actorOf(principal), target: { type: 'story', id } })
    if (row) await addToOutbox(tx, PROCESS_STORY_JOB, { storyId: id })
    return row
  })
  if (published) deps.jobs.outboxCommitted()
  if (published) await invalidateStory(deps.cache, id)
  if (!published) {
    // Publishing one's own already-published story is a no-op, not an error.
    const owner = await findStoryOwnership(deps.db, id)
    if (!(owner?.authorId === principal.profileId && owner.status === 'published')) {
      await explainMiss(deps, principal, id)
    }
  }
  const story = await loadOwnStory(deps, id)
  if (published) await deps.cache.invalidate('profile', story.author.username)
  return story
}

export async function deleteStory(deps: Deps, principal: Principal, id: string): Promise<void> {
  const owner = await findStoryOwnership(deps.db, id)
  if (!owner) throw notFound(id)
  if (owner.authorId !== principal.profileId && !principal.isAdmin) {
    if (owner.status === 'published')
      throw new AppError('forbidden', 'Only the author or an admin can delete this story')
    throw notFound(id)
  }
  const deleted = await inAuditedTransaction(deps, async (tx, record) => {
    const row = await softDeleteStory(tx, id)
    if (row?.status === 'published') await adjustPublishedStoryCount(tx, row.authorId, -1)
    // An admin removing someone else's story is an admin action.
    const asAdmin = owner.authorId !== principal.profileId
    const action = asAdmin ? 'admin.story.deleted' : 'story.deleted'
    const details = { previousStatus: row?.status ?? null, authorId: owner.authorId }
    if (row) await record({ action, actor: actorOf(principal), target: { type: 'story', id }, details })
    return row
  })
  // Deleted concurrently by someone else between the check and the write.
  if (!deleted) throw notFound(id)
  await invalidateStory(deps.cache, id)
  // The author's published-story count changed; we know their id, not the username key.
  if (deleted.status === 'published') await deps.cache.invalidateKind('profile')
}

const FEED = 'stories.feed'

type ListQuery = { limit: number; cursor?: string | undefined; tag?: string | undefined }
type StoryPage = { items: StoryListItem[]; nextCursor: string | null }

/** First pages (no cursor) are cached; deeper pages are rarely read twice. */
export async function listStories(
  deps: Deps,
  query: ListQuery,
  author?: { username: string; mustExist: boolean },
): Promise<StoryPage> {
  if (query.cursor) return loadStoryPage(deps, query, author)
  const id = cacheKeys.storyList({
    limit: query.limit,
    tag: query.tag,
    author: author && `${author.mustExist ? '!' : ''}${author.username}`,
  })
  return deps.cache.getOrLoad('storyList', id, () => loadStoryPage(deps, query, author))
}

async function loadStoryPage(
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
    authorId = await deps.database.read((db) => findProfileIdByUsername(db, author.username), deps.scope)
    if (!authorId && author.mustExist)
      throw new AppError('profile_not_found', `No profile @${author.username}`)
    if (!authorId) return { items: [], nextCursor: null }
  }
  const filter = { limit: query.limit, after, authorId, tag: query.tag }
  const rows = await deps.database.read((db) => listPublishedStories(db, filter), deps.scope)
  const page = rows.slice(0, query.limit)
  const last = page.at(-1)
  const nextCursor =
    rows.length > query.limit && last
      ? deps.cursors.encode(FEED, { publishedAt: isoTime(last.publishedAt!), id: last.id })
      : null
  return {
    items: page.map((r) => ({ ...r, publishedAt: isoTime(r.publishedAt!) })),
    nextCursor,
  }
}
