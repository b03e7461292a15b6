import { LRUCache } from 'lru-cache'
import type { Logger } from 'pino'
import { TTL_ENTRIES } from '../lru-ttl.ts'
import type { MaybePromise } from '../maybe-promise.ts'
import { type Tally, tallies } from '../observability/tallies.ts'
import { currentScope, runInScope } from '../request-scope.ts'
import { type CacheKind, cacheKinds, TTL } from './keys.ts'
import type { CacheMetrics } from './metrics.ts'
import type { Invalidation, SharedTier } from './shared-tier.ts'

export interface LoadOptions<T> {
  /** Rebuilds a value read back from Redis as JSON (dates, for instance). */
  revive?: (json: unknown) => T
  /** Values failing this are returned but never stored (drafts, for instance). */
  cacheIf?: (value: T) => boolean
}

/** Two tiers: an in-process LRU in front of Redis (memory only in the embedded default). */
export interface ObjectCache {
  /**
   * The value of a local hit itself, without a promise (the hot path: a promise and its
   * microtask cost more than the lookup); a promise otherwise.
   */
  getOrLoad<T>(kind: CacheKind, id: string, load: () => Promise<T>, options?: LoadOptions<T>): MaybePromise<T>
  /** Drops one entry on every instance; resolves once Redis and the other instances were told. */
  invalidate(kind: CacheKind, id: string): Promise<void>
  /** `invalidate` for many ids of one kind: one Redis round trip and one message. */
  invalidateMany(kind: CacheKind, ids: readonly string[]): Promise<void>
  /** Drops every entry of a kind on every instance (a new generation of its keys). */
  invalidateKind(kind: CacheKind): Promise<void>
  /** True while Redis is configured but unreachable: every read goes to the database. */
  readonly degraded: boolean
}

/** Ids per script and per message of `invalidateMany`. */
const INVALIDATE_CHUNK = 1000

interface Flight {
  kind: CacheKind
  stale: boolean
  promise: Promise<unknown>
}

interface Options {
  enabled: boolean
  localMax: number
  shared?: SharedTier | undefined
  metrics: CacheMetrics
  log: Logger
}

/**
 * Coherence: a local entry lives only while the pub/sub subscription is up (it is
 * how other instances' invalidations arrive); on every (re)subscription the local
 * tier is emptied and kind generations re-read. A load that an invalidation overtook
 * is returned to its callers but stored nowhere (`stale`), here or in Redis.
 *
 * A Redis command sent after one of this class's own awaits (a fill after the load, a
 * publish after a drop) is sent inside the scope its caller was in (request-scope.ts,
 * captured on entry), so a traced request keeps it as a child span (cache/scoped.ts).
 */
export class TieredCache implements ObjectCache {
  readonly #o: Options
  readonly #local: LRUCache<string, object>
  readonly #gens = new Map<CacheKind, number>()
  readonly #inflight = new Map<string, Flight>()
  #sharedReady = false
  #missedInvalidation = false

  /** Hit and miss counters by label set, tallied (observability/tallies.ts). */
  readonly #hits: (kind: CacheKind, tier: 'local' | 'shared' | 'coalesced') => Tally
  readonly #misses: (kind: CacheKind, reason: 'absent' | 'bypass') => Tally

  constructor(options: Options) {
    this.#o = options
    this.#hits = tallies(options.metrics.hits, ['kind', 'tier'])
    this.#misses = tallies(options.metrics.misses, ['kind', 'reason'])
    this.#local = new LRUCache<string, object>({ max: Math.max(1, options.localMax), ...TTL_ENTRIES })
    options.metrics.degraded.set(options.shared ? 1 : 0)
    for (const link of options.shared?.links ?? []) {
      link.on('up', () => void this.#resync())
      link.on('down', () => this.#goDegraded())
    }
    if (options.shared?.up) void this.#resync()
  }

  get degraded(): boolean {
    return this.#o.shared !== undefined && !this.#sharedReady
  }

  #usable(): boolean {
    return this.#o.enabled && (this.#o.shared === undefined || this.#sharedReady)
  }

  #key(kind: CacheKind, id: string): string {
    return `${kind}:${this.#gens.get(kind) ?? 0}:${id}`
  }

  getOrLoad<T>(
    kind: CacheKind,
    id: string,
    load: () => Promise<T>,
    options: LoadOptions<T> = {},
  ): MaybePromise<T> {
    if (!this.#usable()) {
      this.#misses(kind, 'bypass').inc()
      return load()
    }
    const key = this.#key(kind, id)
    const hit = this.#local.get(key)
    if (hit !== undefined) {
      this.#hits(kind, 'local').inc()
      return (hit as { v: T }).v
    }
    const flying = this.#inflight.get(key)
    if (flying) {
      this.#hits(kind, 'coalesced').inc()
      return flying.promise as Promise<T>
    }
    const flight: Flight = { kind, stale: false, promise: Promise.resolve() }
    flight.promise = this.#fill(kind, id, key, load, options, flight).finally(() => {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key)
    })
    this.#inflight.set(key, flight)
    return flight.promise as Promise<T>
  }

  async #fill<T>(
    kind: CacheKind,
    id: string,
    key: string,
    load: () => Promise<T>,
    o: LoadOptions<T>,
    f: Flight,
  ) {
    const gen = this.#gens.get(kind) ?? 0
    const shared = this.#o.shared
    // The caller's scope, for the fill sent after awaits (see the class comment).
    const scope = currentScope()
    const seen = shared ? await shared.read(kind, gen, id).catch(() => undefined) : undefined
    if (seen?.value) {
      const value = o.revive ? o.revive(JSON.parse(seen.value)) : (JSON.parse(seen.value) as T)
      this.#hits(kind, 'shared').inc()
      if (!f.stale) this.#local.set(key, { v: value }, { ttl: TTL.objects[kind] * 1000 })
      return value
    }
    this.#misses(kind, 'absent').inc()
    const endTimer = this.#o.metrics.loads.startTimer({ kind })
    const value = await load()
    endTimer()
    if (f.stale || (o.cacheIf && !o.cacheIf(value))) return value
    this.#local.set(key, { v: value }, { ttl: TTL.objects[kind] * 1000 })
    // Awaited so the next read on another instance finds it; a miss already paid a query.
    if (shared && seen) {
      const json = JSON.stringify(value)
      await runInScope(scope, () => shared.fill(kind, gen, id, seen.keyGen, json, TTL.objects[kind])).catch(
        () => {},
      )
    }
    return value
  }

  async invalidate(kind: CacheKind, id: string): Promise<void> {
    this.#dropLocal(kind, id)
    this.#o.metrics.invalidations.inc({ kind, scope: 'key', origin: 'local' })
    const shared = this.#o.shared
    if (!shared) return
    const scope = currentScope()
    try {
      await shared.dropKey(kind, this.#gens.get(kind) ?? 0, id)
      await runInScope(scope, () => shared.publish({ kind, id }))
    } catch (err) {
      this.#missed(err)
    }
  }

  async invalidateMany(kind: CacheKind, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    for (const id of ids) this.#dropLocal(kind, id)
    this.#o.metrics.invalidations.inc({ kind, scope: 'key', origin: 'local' }, ids.length)
    const shared = this.#o.shared
    if (!shared) return
    const scope = currentScope()
    try {
      // Chunked so one script never blocks Redis (nor one message its subscribers) for long.
      for (let i = 0; i < ids.length; i += INVALIDATE_CHUNK) {
        const chunk = ids.slice(i, i + INVALIDATE_CHUNK)
        await runInScope(scope, () => shared.dropKeys(kind, this.#gens.get(kind) ?? 0, chunk))
        await runInScope(scope, () => shared.publish({ kind, ids: chunk }))
      }
    } catch (err) {
      this.#missed(err)
    }
  }

  async invalidateKind(kind: CacheKind): Promise<void> {
    this.#o.metrics.invalidations.inc({ kind, scope: 'kind', origin: 'local' })
    const shared = this.#o.shared
    if (!shared) return this.#newGeneration(kind, (this.#gens.get(kind) ?? 0) + 1)
    const scope = currentScope()
    try {
      const gen = await shared.bumpKind(kind)
      this.#newGeneration(kind, gen)
      await runInScope(scope, () => shared.publish({ kind, gen }))
    } catch (err) {
      this.#newGeneration(kind, (this.#gens.get(kind) ?? 0) + 1)
      this.#missed(err)
    }
  }

  /** Another instance's invalidation (our own come back too; applying them twice is harmless). */
  receive(message: Invalidation): void {
    const kind = message.kind as CacheKind
    if (!cacheKinds.includes(kind)) return
    if ('id' in message) this.#dropLocal(kind, message.id)
    else if ('ids' in message) for (const id of message.ids) this.#dropLocal(kind, id)
    else this.#newGeneration(kind, Math.max(message.gen, this.#gens.get(kind) ?? 0))
    const scope = 'gen' in message ? 'kind' : 'key'
    this.#o.metrics.invalidations.inc(
      { kind, scope, origin: 'remote' },
      'ids' in message ? message.ids.length : 1,
    )
  }

  #dropLocal(kind: CacheKind, id: string): void {
    const key = this.#key(kind, id)
    this.#local.delete(key)
    const flight = this.#inflight.get(key)
    if (flight) {
      flight.stale = true
      this.#inflight.delete(key)
    }
  }

  #newGeneration(kind: CacheKind, gen: number): void {
    this.#gens.set(kind, gen)
    for (const [key, flight] of this.#inflight) {
      if (flight.kind !== kind) continue
      flight.stale = true
      this.#inflight.delete(key)
    }
  }

  /** Redis lost an invalidation: its entries (here and there) may be stale until resync. */
  #missed(err: unknown): void {
    this.#missedInvalidation = true
    this.#o.log.warn({ err }, 'cache invalidation did not reach redis; bypassing the cache until resync')
    this.#goDegraded()
    // The connection may still be up (one command timed out): then no 'up' event comes.
    setTimeout(() => void this.#resync(), 1000).unref()
  }

  #goDegraded(): void {
    if (!this.#sharedReady) return
    this.#sharedReady = false
    this.#local.clear()
    this.#o.metrics.degraded.set(1)
    this.#o.log.warn('cache degraded: serving from the database until redis returns')
  }

  /** After (re)connecting: new generations if we lost invalidations, then read every kind's. */
  async #resync(): Promise<void> {
    const shared = this.#o.shared
    if (!shared?.up) return
    try {
      if (this.#missedInvalidation) {
        for (const kind of cacheKinds) await shared.publish({ kind, gen: await shared.bumpKind(kind) })
        this.#missedInvalidation = false
      }
      const gens = await shared.kindGens(cacheKinds)
      for (const [i, kind] of cacheKinds.entries()) this.#newGeneration(kind, gens[i] ?? 0)
    } catch (err) {
      this.#o.log.warn({ err }, 'cache resync failed; retrying on the next reconnect')
      return
    }
    this.#local.clear()
    this.#sharedReady = true
    this.#o.metrics.degraded.set(0)
    this.#o.log.info('cache resumed: redis reachable')
  }

  async close(): Promise<void> {
    this.#local.clear()
    await this.#o.shared?.close()
  }
}
