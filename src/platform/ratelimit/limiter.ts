import { LRUCache } from 'lru-cache'
import { TTL_ENTRIES } from '../lru-ttl.ts'
import type { CounterStore } from './store.ts'

export interface LimitRule {
  max: number
  windowS: number
}

export interface Decision {
  allowed: boolean
  limit: number
  /** Requests left in this window: exact on one instance; across instances, tokens other instances leased count as spent. */
  remaining: number
  /** Seconds until the window ends. */
  resetS: number
}

interface Bucket {
  /** The window this bucket counts (start time / window length). */
  window: number
  /** Tokens leased from the shared counter and not yet spent here. */
  left: number
  /** The shared counter after our last lease: every token leased by any instance. */
  seen: number
  /** The shared counter reached the limit: no lease can grant more this window. */
  exhausted: boolean
  pending?: Promise<void> | undefined
}

/** Tokens taken per lease: a twentieth of the limit, at most 1000 (docs/rate-limiting.md). */
export function leaseSize(max: number): number {
  return Math.max(1, Math.min(1000, Math.floor(max / 20)))
}

export interface LimiterOptions {
  /** The shared counters (Redis); absent in the embedded default. */
  shared?: CounterStore | undefined
  /** Whether the shared store is reachable right now. */
  sharedUp?: () => boolean
  /** Per-instance counters: the embedded default, and the fallback while Redis is down. */
  local: CounterStore
  /** A lease served by `local` although `shared` is configured. */
  onFallback?: (limitClass: string) => void
  now?: () => number
}

/**
 * Locally pre-allocated quota: an instance leases a batch of tokens from the shared
 * counter (one Redis round trip per batch) and spends them in memory. A lease grants
 * only what fits under the limit, so all instances together never allow more than
 * `max` per window; tokens leased but unspent by one instance are the price (another
 * instance may refuse up to `(instances - 1) * leaseSize` early).
 */
export class Limiter {
  readonly #o: LimiterOptions
  readonly #now: () => number
  /**
   * Per class, each client's bucket of the current window, by the client's id alone:
   * the ids (an address, a subject) are strings already hashed by earlier lookups, where
   * a key joining class, id and window was a new string to build and hash per request.
   * At most 50,000 clients per class (the least recently seen are dropped first).
   */
  readonly #buckets = new Map<string, LRUCache<string, Bucket>>()

  constructor(options: LimiterOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  /** Synchronous while local tokens last; a Promise when a lease is needed. */
  take(limitClass: string, rule: LimitRule, id: string): Decision | Promise<Decision> {
    const now = this.#now()
    const windowMs = rule.windowS * 1000
    const window = Math.floor(now / windowMs)
    const resetS = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000))
    const buckets = this.#bucketsOf(limitClass)
    let bucket = buckets.get(id)
    if (bucket?.window !== window) {
      bucket = { window, left: 0, seen: 0, exhausted: false }
      buckets.set(id, bucket, { ttl: windowMs + 1000 })
    }
    if (bucket.left > 0) {
      bucket.left--
      return decision(true, rule, bucket, resetS)
    }
    if (bucket.exhausted) return decision(false, rule, bucket, resetS)
    // The shared counter's key names the window: a new window starts from zero.
    const key = `${limitClass}:${id}:${window}`
    bucket.pending ??= this.#lease(limitClass, key, rule, bucket).finally(() => {
      bucket.pending = undefined
    })
    return bucket.pending.then(() => this.take(limitClass, rule, id))
  }

  #bucketsOf(limitClass: string): LRUCache<string, Bucket> {
    let buckets = this.#buckets.get(limitClass)
    if (!buckets) {
      buckets = new LRUCache<string, Bucket>({ max: 50_000, ...TTL_ENTRIES })
      this.#buckets.set(limitClass, buckets)
    }
    return buckets
  }

  async #lease(limitClass: string, key: string, rule: LimitRule, bucket: Bucket): Promise<void> {
    const want = leaseSize(rule.max)
    const windowMs = rule.windowS * 1000
    const { shared, local } = this.#o
    let total: number
    if (shared && (this.#o.sharedUp?.() ?? true)) {
      try {
        total = await shared.lease(key, want, windowMs)
      } catch {
        total = await this.#fallback(limitClass, key, want, windowMs)
      }
    } else if (shared) total = await this.#fallback(limitClass, key, want, windowMs)
    else total = await local.lease(key, want, windowMs)
    const before = total - want
    bucket.left += Math.max(0, Math.min(want, rule.max - before))
    bucket.seen = Math.max(bucket.seen, total)
    bucket.exhausted = total >= rule.max
  }

  #fallback(limitClass: string, key: string, want: number, windowMs: number) {
    this.#o.onFallback?.(limitClass)
    return this.#o.local.lease(key, want, windowMs)
  }
}

function decision(allowed: boolean, rule: LimitRule, bucket: Bucket, resetS: number): Decision {
  const spent = Math.min(bucket.seen, rule.max) - bucket.left
  return { allowed, limit: rule.max, remaining: Math.max(0, rule.max - spent), resetS }
}
