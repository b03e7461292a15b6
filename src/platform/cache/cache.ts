import { LRUCache } from 'lru-cache'
import { TTL_ENTRIES } from '../lru-ttl.ts'
import type { RedisLink } from './redis.ts'
import type { ObjectCache } from './tiered.ts'

/**
 * The key-value seam. Values are strings (callers serialize); TTLs in seconds.
 * A store failure never fails a request: reads degrade to misses, writes are dropped.
 */
export interface KeyValueStore {
  readonly kind: 'memory' | 'redis'
  get(key: string): Promise<string | undefined>
  set(key: string, value: string, ttlS: number): Promise<void>
  /** Sets only if absent; true when this call set it (used for de-duplication). */
  setIfAbsent(key: string, value: string, ttlS: number): Promise<boolean>
  /** Milliseconds until `key` expires; undefined when it is absent, has no expiry, or the store failed. */
  ttlMs(key: string): Promise<number | undefined>
  del(...keys: string[]): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
}

/** `ctx.cache`: the key-value store plus the two-tier object cache built on it. */
export interface Cache extends KeyValueStore, ObjectCache {}

export function createMemoryStore(max = 50_000): KeyValueStore {
  const lru = new LRUCache<string, string>({ max, ...TTL_ENTRIES })
  return {
    kind: 'memory',
    get: async (key) => lru.get(key),
    set: async (key, value, ttlS) => {
      lru.set(key, value, { ttl: ttlS * 1000 })
    },
    setIfAbsent: async (key, value, ttlS) => {
      if (lru.has(key)) return false
      lru.set(key, value, { ttl: ttlS * 1000 })
      return true
    },
    ttlMs: async (key) => {
      const left = lru.getRemainingTTL(key)
      return left > 0 && Number.isFinite(left) ? left : undefined
    },
    del: async (...keys) => {
      for (const key of keys) lru.delete(key)
    },
    ping: async () => {},
    close: async () => lru.clear(),
  }
}

export function createRedisStore(link: RedisLink): KeyValueStore {
  const redis = link.client
  const soft = async <T>(op: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await op()
    } catch {
      return fallback
    }
  }
  return {
    kind: 'redis',
    get: (key) => soft(async () => (await redis.get(key)) ?? undefined, undefined),
    set: (key, value, ttlS) => soft(async () => void (await redis.set(key, value, 'EX', ttlS)), undefined),
    setIfAbsent: (key, value, ttlS) =>
      // When Redis is down, count the event rather than drop it.
      soft(async () => (await redis.set(key, value, 'EX', ttlS, 'NX')) === 'OK', true),
    ttlMs: (key) =>
      soft(async () => {
        const left = await redis.pttl(key)
        return left > 0 ? left : undefined
      }, undefined),
    del: (...keys) => soft(async () => void (keys.length > 0 && (await redis.del(...keys))), undefined),
    ping: async () => {
      await redis.ping()
    },
    close: () => link.close(),
  }
}
