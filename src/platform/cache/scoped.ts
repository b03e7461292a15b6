import type { MaybePromise } from '../maybe-promise.ts'
import { type RequestScope, runInScope } from '../request-scope.ts'
import type { Cache } from './cache.ts'
import type { CacheKind } from './keys.ts'
import type { LoadOptions } from './tiered.ts'

/**
 * A request's cache handle: the shared cache, each of whose calls starts inside the
 * request's scope, so the Redis commands it sends are child spans of the request's
 * server span (observability/tracing.ts reads the scope when ioredis announces a
 * command). The scope is not carried across awaits (request-scope.ts): without this
 * handle, a cache call made after the handler's first await sent its commands with no
 * parent, and a traced request lost them. The tiered cache re-enters the caller's scope
 * itself for the commands it sends after an await of its own (a fill after a load, a
 * publish after a drop).
 *
 * Only made while tracing is on (http/request-deps.ts): the scope is read for nothing
 * else, and a cached read then pays for no extra object.
 */
export class ScopedCache implements Cache {
  constructor(
    private readonly cache: Cache,
    private readonly scope: RequestScope,
  ) {}

  get kind(): Cache['kind'] {
    return this.cache.kind
  }

  get degraded(): boolean {
    return this.cache.degraded
  }

  get(key: string): Promise<string | undefined> {
    return runInScope(this.scope, () => this.cache.get(key))
  }

  set(key: string, value: string, ttlS: number): Promise<void> {
    return runInScope(this.scope, () => this.cache.set(key, value, ttlS))
  }

  setIfAbsent(key: string, value: string, ttlS: number): Promise<boolean> {
    return runInScope(this.scope, () => this.cache.setIfAbsent(key, value, ttlS))
  }

  ttlMs(key: string): Promise<number | undefined> {
    return runInScope(this.scope, () => this.cache.ttlMs(key))
  }

  del(...keys: string[]): Promise<void> {
    return runInScope(this.scope, () => this.cache.del(...keys))
  }

  ping(): Promise<void> {
    return runInScope(this.scope, () => this.cache.ping())
  }

  /** The shared cache's own: a request never closes it. */
  close(): Promise<void> {
    return Promise.reject(new Error("a request's cache handle cannot close the shared cache"))
  }

  getOrLoad<T>(
    kind: CacheKind,
    id: string,
    load: () => Promise<T>,
    options?: LoadOptions<T>,
  ): MaybePromise<T> {
    return runInScope(this.scope, () => this.cache.getOrLoad(kind, id, load, options))
  }

  invalidate(kind: CacheKind, id: string): Promise<void> {
    return runInScope(this.scope, () => this.cache.invalidate(kind, id))
  }

  invalidateMany(kind: CacheKind, ids: readonly string[]): Promise<void> {
    return runInScope(this.scope, () => this.cache.invalidateMany(kind, ids))
  }

  invalidateKind(kind: CacheKind): Promise<void> {
    return runInScope(this.scope, () => this.cache.invalidateKind(kind))
  }
}
