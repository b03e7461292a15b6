import { createHash } from 'node:crypto'
import { cacheKeys, TTL } from '../../platform/cache/keys.ts'
import type { AppContext } from '../../platform/context.ts'
import type { JobDefinition } from '../../platform/jobs/runner.ts'
import { addStoryViews } from './queries.ts'

/**
 * Views are counted at most once per reader per story per hour (a cache key with a
 * one-hour TTL de-duplicates), summed in memory, and written in one batched UPDATE
 * every VIEW_FLUSH_INTERVAL_S, so reads never wait on a write. Counts reach the
 * database within that interval; a crash loses at most one interval's views.
 */
export interface ViewCounter {
  record(storyId: string, reader: string): Promise<void>
  flush(): Promise<void>
  readonly pending: number
}

export function readerKey(subject: string | undefined, ip: string, userAgent: string | undefined): string {
  const identity = subject ? `sub:${subject}` : `anon:${ip}:${userAgent ?? ''}`
  return createHash('sha256').update(identity).digest('base64url').slice(0, 22)
}

export function createViewCounter(ctx: Pick<AppContext, 'db' | 'cache' | 'log'>): ViewCounter {
  let buffer = new Map<string, number>()
  return {
    async record(storyId, reader) {
      const first = await ctx.cache.setIfAbsent(
        cacheKeys.storyView(storyId, reader),
        '1',
        TTL.storyViewDedupeS,
      )
      if (first) buffer.set(storyId, (buffer.get(storyId) ?? 0) + 1)
    },
    async flush() {
      if (buffer.size === 0) return
      const batch = buffer
      buffer = new Map()
      try {
        await addStoryViews(
          ctx.db,
          [...batch].map(([id, n]) => ({ id, n })),
        )
      } catch (err) {
        // Put the counts back so the next flush retries them.
        for (const [id, n] of batch) buffer.set(id, (buffer.get(id) ?? 0) + n)
        throw err
      }
    },
    get pending() {
      let total = 0
      for (const n of buffer.values()) total += n
      return total
    },
  }
}

export function viewFlushJob(counter: ViewCounter, intervalS: number): JobDefinition {
  return {
    name: 'stories.flush-views',
    everyMs: intervalS * 1000,
    runOnStop: true,
    handler: () => counter.flush(),
  }
}
