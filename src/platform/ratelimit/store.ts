import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { TTL_ENTRIES } from '../lru-ttl.ts'

/**
 * A shared counter per bucket and window: `lease` adds `n` tokens to it and returns
 * the new total. The caller grants itself what fits under the limit. Windows are
 * fixed and aligned on the epoch, so every instance agrees on them.
 */
export interface CounterStore {
  lease(key: string, n: number, windowMs: number): Promise<number> | number
}

// INCRBY then, on the first lease of the window, an expiry: one round trip, atomic.
const LEASE = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return total`

export function redisCounterStore(client: Redis): CounterStore {
  client.defineCommand('inkwellLease', { numberOfKeys: 1, lua: LEASE })
  const leaser = client as unknown as { inkwellLease(key: string, n: number, ttlMs: number): Promise<number> }
  return {
    // The key outlives its window by a second, for clocks a little apart.
    lease: (key, n, windowMs) => leaser.inkwellLease(`rl:${key}`, n, windowMs + 1000),
  }
}

/** The embedded default, and the per-instance fallback while Redis is down. */
export function memoryCounterStore(max = 100_000): CounterStore {
  const counters = new LRUCache<string, { total: number }>({ max, ...TTL_ENTRIES })
  return {
    lease(key, n, windowMs) {
      const entry = counters.get(key)
      if (entry) {
        entry.total += n
        return entry.total
      }
      counters.set(key, { total: n }, { ttl: windowMs + 1000 })
      return n
    },
  }
}
