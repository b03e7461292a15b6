import type { Logger } from 'pino'
import type { Metric } from 'prom-client'
import { type Cache, createMemoryStore, createRedisStore, type KeyValueStore } from './cache.ts'
import { createCacheMetrics } from './metrics.ts'
import type { RedisLink } from './redis.ts'
import { SharedTier } from './shared-tier.ts'
import { TieredCache } from './tiered.ts'

export interface CacheSettings {
  CACHE_ENABLED: boolean
  CACHE_LOCAL_MAX_ENTRIES: number
  REDIS_KEY_PREFIX: string
}

/** `ctx.cache`: on Redis when `link` is given, else in process memory. */
export function createCache(
  settings: CacheSettings,
  link: RedisLink | undefined,
  log: Logger,
): { cache: Cache; metrics: Metric[] } {
  const metrics = createCacheMetrics()
  const store: KeyValueStore = link ? createRedisStore(link) : createMemoryStore()
  let tiered: TieredCache | undefined
  const shared = link
    ? new SharedTier(link, settings.REDIS_KEY_PREFIX, (m) => tiered?.receive(m), log)
    : undefined
  tiered = new TieredCache({
    enabled: settings.CACHE_ENABLED,
    localMax: settings.CACHE_LOCAL_MAX_ENTRIES,
    shared,
    metrics,
    log,
  })
  const objects = tiered
  const cache: Cache = {
    ...store,
    kind: store.kind,
    getOrLoad: (kind, id, load, options) => objects.getOrLoad(kind, id, load, options),
    invalidate: (kind, id) => objects.invalidate(kind, id),
    invalidateMany: (kind, ids) => objects.invalidateMany(kind, ids),
    invalidateKind: (kind) => objects.invalidateKind(kind),
    get degraded() {
      return objects.degraded
    },
    close: async () => {
      await objects.close()
      await store.close()
    },
  }
  return { cache, metrics: metrics.all }
}
