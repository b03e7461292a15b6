import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type { Logger } from 'pino'

/**
 * The cache seam. Values are strings (callers serialize); TTLs in seconds.
 * A cache failure never fails a request: reads degrade to misses, writes are dropped.
 */
export interface Cache {
  readonly kind: 'memory' | 'redis'
  get(key: string): Promise<string | undefined>
  set(key: string, value: string, ttlS: number): Promise<void>
  /** Sets only if absent; true when this call set it (used for de-duplication). */
  setIfAbsent(key: string, value: string, ttlS: number): Promise<boolean>
  del(...keys: string[]): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
}

export function createMemoryCache(max = 50_000): Cache {
  const lru = new LRUCache<string, string>({ max, ttlAutopurge: false })
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
    del: async (...keys) => {
      for (const key of keys) lru.delete(key)
    },
    ping: async () => {},
    close: async () => lru.clear(),
  }
}

export function createRedisCache(url: string, keyPrefix: string, log: Logger): Cache {
  const redis = new Redis(url, {
    keyPrefix,
    // Fail fast while Redis is down instead of queueing requests behind a reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 500,
    lazyConnect: false,
  })
  let lastErrorLog = 0
  redis.on('error', (err) => {
    const now = Date.now()
    if (now - lastErrorLog > 10_000) {
      lastErrorLog = now
      log.warn({ err }, 'redis cache unavailable; serving without it')
    }
  })
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
    del: (...keys) => soft(async () => void (keys.length > 0 && (await redis.del(...keys))), undefined),
    ping: async () => {
      await redis.ping()
    },
    close: async () => {
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}
