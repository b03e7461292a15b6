import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { cacheKeys, TTL } from '../../platform/cache/keys.ts'
import type { AppContext } from '../../platform/context.ts'
import { inTransaction } from '../../platform/db/transaction.ts'
import { claimCounterBatch, purgeCounterBatches } from '../../platform/jobs/counters.ts'
import type { JobDefinition } from '../../platform/jobs/index.ts'
import { TTL_ENTRIES } from '../../platform/lru-ttl.ts'
import type { MaybePromise } from '../../platform/maybe-promise.ts'
import { type RequestScope, runInScope } from '../../platform/request-scope.ts'
import { addStoryViews } from './queries.ts'

export const FLUSH_VIEWS_JOB = 'stories.flush-views'
const COUNTERS = 'story-views'

/**
 * Views are counted at most once per reader per story per hour (a cache key with a
 * one-hour TTL de-duplicates), summed outside the database (in memory, or in Redis
 * when it is configured, so every API replica adds to one set), and written in one
 * batched UPDATE every VIEW_FLUSH_INTERVAL_S by the flush job, so reads never wait on
 * a write. Counts reach the database within about that interval.
 */
export interface ViewCounter {
  /**
   * Nothing to wait for (no promise) when this instance already counted the reader lately.
   * `scope` is the reading request's: its Redis commands are that request's child spans.
   */
  record(scope: RequestScope, storyId: string, reader: string): MaybePromise<void>
}

/**
 * Readers seen lately: a returning reader's key is looked up, not hashed again on every
 * read. Signed-in readers by their subject itself (the verified identity's own string,
 * whose hash V8 keeps), so a read builds no string to find it.
 */
const subjectKeys = new LRUCache<string, string>({ max: 50_000 })
const anonymousKeys = new LRUCache<string, string>({ max: 50_000 })

/** The hashed key of the reader `kind` + `id`, hashed once and then found by `id`. */
function remembered(seen: LRUCache<string, string>, kind: string, id: string): string {
  let key = seen.get(id)
  if (key === undefined) {
    key = hash('sha256', kind + id, 'base64url').slice(0, 22)
    seen.set(id, key)
  }
  return key
}

/** Who read, as stored in the dedupe keys: hashed, so keys never hold a subject or an IP. */
export function readerKey(subject: string | undefined, ip: string, userAgent: string | undefined): string {
  return subject
    ? remembered(subjectKeys, 'sub:', subject)
    : remembered(anonymousKeys, 'anon:', `${ip}:${userAgent ?? ''}`)
}

export function createViewCounter(ctx: Pick<AppContext, 'cache' | 'jobs' | 'log'>): ViewCounter {
  const counters = ctx.jobs.counters(COUNTERS)
  // Dedupe keys this instance knows are set, until just before they lapse: a reader's
  // repeated reads (the cached hot path) then cost no Redis round trip each.
  const known = new LRUCache<string, true>({ max: 100_000, ...TTL_ENTRIES })
  // Each store call starts in the request's scope: it runs after the read's awaits.
  const count = async (scope: RequestScope, key: string, storyId: string) => {
    const first = await runInScope(scope, () => ctx.cache.setIfAbsent(key, '1', TTL.storyViewDedupeS))
    const leftMs = first ? TTL.storyViewDedupeS * 1000 : await runInScope(scope, () => ctx.cache.ttlMs(key))
    if (leftMs !== undefined && leftMs > 1000) known.set(key, true, { ttl: leftMs - 1000 })
    if (!first) return
    // A view is not worth failing a read over.
    await runInScope(scope, () => counters.add(storyId, 1)).catch((err) =>
      ctx.log.warn({ err }, 'view not counted'),
    )
  }
  return {
    record(scope, storyId, reader) {
      const key = cacheKeys.storyView(storyId, reader)
      return known.has(key) ? undefined : count(scope, key, storyId)
    },
  }
}

/**
 * Takes the pending batch and writes it with its id in one transaction: a flush that
 * runs twice (a retry after a commit whose acknowledgement was lost, or two workers)
 * adds the batch once.
 */
export function viewFlushJob(ctx: Pick<AppContext, 'db' | 'jobs' | 'config' | 'cache'>): JobDefinition {
  const counters = ctx.jobs.counters(COUNTERS)
  return {
    name: FLUSH_VIEWS_JOB,
    everyMs: ctx.config.VIEW_FLUSH_INTERVAL_S * 1000,
    runOnStop: true,
    concurrency: 1,
    timeoutMs: 30_000,
    async handler() {
      const batch = await counters.take()
      if (!batch) return
      await inTransaction(ctx.db, async (tx) => {
        if (!(await claimCounterBatch(tx, batch.id))) return
        await addStoryViews(
          tx,
          [...batch.counts].map(([id, n]) => ({ id, n })),
        )
      })
      await counters.ack(batch.id)
      // Cached stories show the new counts now rather than when their TTL lapses: one
      // Redis round trip and one pub/sub message for the whole batch.
      await ctx.cache.invalidateMany('story', [...batch.counts.keys()])
      await purgeCounterBatches(ctx.db)
    },
  }
}
