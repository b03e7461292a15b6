import { createHash } from 'node:crypto'
import { cacheKeys, TTL } from '../../platform/cache/keys.ts'
import type { AppContext } from '../../platform/context.ts'
import { inTransaction } from '../../platform/db/transaction.ts'
import { claimCounterBatch, purgeCounterBatches } from '../../platform/jobs/counters.ts'
import type { JobDefinition } from '../../platform/jobs/index.ts'
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
  record(storyId: string, reader: string): Promise<void>
}

export function readerKey(subject: string | undefined, ip: string, userAgent: string | undefined): string {
  const identity = subject ? `sub:${subject}` : `anon:${ip}:${userAgent ?? ''}`
  return createHash('sha256').update(identity).digest('base64url').slice(0, 22)
}

export function createViewCounter(ctx: Pick<AppContext, 'cache' | 'jobs' | 'log'>): ViewCounter {
  const counters = ctx.jobs.counters(COUNTERS)
  return {
    async record(storyId, reader) {
      const first = await ctx.cache.setIfAbsent(
        cacheKeys.storyView(storyId, reader),
        '1',
        TTL.storyViewDedupeS,
      )
      if (!first) return
      // A view is not worth failing a read over.
      await counters.add(storyId, 1).catch((err) => ctx.log.warn({ err }, 'view not counted'))
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
      // Cached stories show the new counts now rather than when their TTL lapses.
      await Promise.all([...batch.counts.keys()].map((id) => ctx.cache.invalidate('story', id)))
      await purgeCounterBatches(ctx.db)
    },
  }
}
