import { sql } from 'drizzle-orm'
import { cacheKeys, TTL } from '../../platform/cache/keys.ts'
import type { AppContext } from '../../platform/context.ts'
import { inTransaction } from '../../platform/db/transaction.ts'
import type { JobDefinition } from '../../platform/jobs/index.ts'
import { hydrateRanking, type Ranked, rankStories, readSnapshot, replaceSnapshot } from './snapshot.ts'

export const RECOMPUTE_TRENDING_JOB = 'trending.recompute'
export const WINDOW_HOURS = { '24h': 24, '7d': 168 } as const
export type TrendingWindow = keyof typeof WINDOW_HOURS

type Deps = Pick<AppContext, 'db' | 'database' | 'cache' | 'log' | 'scope'>

/**
 * Every TRENDING_REFRESH_S: rank each window once, store it in trending_snapshot
 * (one transaction per window) and in the cache. Idempotent: a second run writes
 * the same ranking again.
 */
export function recomputeTrendingJob(ctx: Deps & Pick<AppContext, 'config'>): JobDefinition {
  return {
    name: RECOMPUTE_TRENDING_JOB,
    everyMs: ctx.config.TRENDING_REFRESH_S * 1000,
    concurrency: 1,
    attempts: 2,
    timeoutMs: 50_000,
    async handler() {
      for (const [window, hours] of Object.entries(WINDOW_HOURS)) {
        await inTransaction(ctx.db, async (tx) => {
          // Recomputes serialize, so a slower, older ranking never overwrites a newer one.
          await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('inkwell.trending'))`)
          const ranked = await rankStories(tx, hours)
          await replaceSnapshot(tx, window, ranked)
          await ctx.cache.set(cacheKeys.trendingRanking(window), JSON.stringify(ranked), TTL.trendingRankingS)
        })
      }
      // Cached GET /v1/trending responses were built from the previous ranking.
      await ctx.cache.invalidateKind('trending')
    },
  }
}

async function currentRanking(ctx: Deps, window: TrendingWindow): Promise<Ranked[] | undefined> {
  const cached = await ctx.cache.get(cacheKeys.trendingRanking(window))
  if (cached) return JSON.parse(cached) as Ranked[]
  return ctx.database.read((db) => readSnapshot(db, window), ctx.scope)
}

/**
 * GET /v1/trending: the ranking from the cache, else the snapshot table, hydrated
 * with current rows. Before the first recompute (a fresh install) it is computed
 * on the spot, as it was before snapshots existed.
 */
export async function readTrending(ctx: Deps, window: TrendingWindow, limit: number) {
  return ctx.database.read(async (db) => {
    const ranked = (await currentRanking(ctx, window)) ?? (await rankStories(db, WINDOW_HOURS[window]))
    return hydrateRanking(db, ranked, limit)
  }, ctx.scope)
}
