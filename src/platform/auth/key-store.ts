import type { CryptoKey } from 'jose'
import type { Logger } from 'pino'
import type { AppError } from '../http/errors.ts'
import { authUnavailable, refused } from './errors.ts'
import { InvalidKeySet, importKeySet, type VerificationKey } from './jwk-import.ts'
import { type JwksLoader, LoadFailure } from './jwks-source.ts'
import type { AuthObserver, FetchOutcome } from './observer.ts'

export interface KeyStoreOptions {
  load: JwksLoader
  algorithms: readonly string[]
  cacheS: number
  cooldownS: number
  timeoutMs: number
  maxStaleS: number
  log: Pick<Logger, 'info' | 'warn'>
  observer: Pick<AuthObserver, 'fetched'>
  /** Called with the ids of keys that left the set (rotation), so derived caches forget them. */
  onKeysRemoved?: (ids: ReadonlySet<string>) => void
  now?: () => number
}

export interface ResolvedKey {
  id: string
  key: CryptoKey
}

export interface KeyStore {
  /** The key for a token's `kid` and `alg`; throws invalid_token or auth_unavailable. */
  resolve(kid: string | undefined, alg: string): Promise<ResolvedKey>
  /** Whether a verification made with key `id` may be reused now, without waiting for a fetch. */
  canReuse(id: string): boolean
  /** Loads the set if there is none, or waits for the fetch under way; never throws. */
  warm(): Promise<void>
  /** Seconds since the set in use was fetched; null before the first successful fetch. */
  ageSeconds(): number | null
  size(): number
  close(): void
}

interface KeySet {
  keys: VerificationKey[]
  ids: Set<string>
  fetchedAt: number
}

// Refresh ahead once a set has lived this share of AUTH_JWKS_CACHE_S.
const REFRESH_AHEAD = 0.8

function outcomeOf(err: unknown, signal: AbortSignal): Exclude<FetchOutcome, 'ok'> {
  if (signal.aborted) return 'timeout'
  if (err instanceof LoadFailure) return err.outcome
  if (err instanceof InvalidKeySet) return 'invalid_response'
  return 'network_error'
}

/**
 * The provider's public keys, cached. Fresh for cacheS (refreshed in the background
 * from 80% of it); stale sets are revalidated before use and, while the provider is
 * down, kept in service for maxStaleS more. Fetches are single-flight; after a failed
 * fetch none is tried for cooldownS; an unknown kid causes at most one refetch per
 * cooldownS, however many requests carry one.
 */
class JwksKeyStore implements KeyStore {
  private readonly now: () => number
  private readonly cacheMs: number
  private readonly cooldownMs: number
  private readonly usableMs: number
  private readonly closer = new AbortController()
  private set: KeySet | null = null
  private inflight: Promise<boolean> | null = null
  private failedAt = Number.NEGATIVE_INFINITY
  private refetchedAt = Number.NEGATIVE_INFINITY

  constructor(private readonly options: KeyStoreOptions) {
    this.now = options.now ?? Date.now
    this.cacheMs = options.cacheS * 1000
    this.cooldownMs = options.cooldownS * 1000
    this.usableMs = this.cacheMs + options.maxStaleS * 1000
  }

  async resolve(kid: string | undefined, alg: string): Promise<ResolvedKey> {
    const askedAt = this.now()
    let found = findKey(await this.ensureUsable(), kid, alg)
    if (found === 'unknown_kid') {
      await this.refetchForUnknownKid(askedAt)
      found = this.set && this.age() < this.usableMs ? findKey(this.set, kid, alg) : 'unknown_kid'
    }
    if (typeof found === 'object') return found
    if (found === 'unknown_kid' && this.lastAttemptFailed())
      throw this.unavailable('kid not cached, JWKS unreachable')
    throw refused('invalid_token', found)
  }

  canReuse(id: string): boolean {
    if (!this.set?.ids.has(id)) return false
    const age = this.age()
    if (age < this.cacheMs * REFRESH_AHEAD) return true
    if (age < this.cacheMs) {
      void this.refresh()
      return true
    }
    // Stale: reuse only while no revalidation could run, i.e. the provider is down.
    return age < this.usableMs && this.inflight === null && this.coolingDown()
  }

  async warm(): Promise<void> {
    if (this.inflight) await this.inflight
    else if (!this.set) await this.refresh()
  }

  ageSeconds(): number | null {
    return this.set ? (this.now() - this.set.fetchedAt) / 1000 : null
  }

  size(): number {
    return this.set?.keys.length ?? 0
  }

  close(): void {
    this.closer.abort()
  }

  private age(): number {
    return this.set ? this.now() - this.set.fetchedAt : Number.POSITIVE_INFINITY
  }

  private coolingDown(): boolean {
    return this.now() - this.failedAt < this.cooldownMs
  }

  private lastAttemptFailed(): boolean {
    return this.failedAt > (this.set?.fetchedAt ?? Number.NEGATIVE_INFINITY)
  }

  private unavailable(reason: string): AppError {
    const wait = this.coolingDown() ? (this.failedAt + this.cooldownMs - this.now()) / 1000 : 1
    return authUnavailable(wait, reason)
  }

  /** Makes sure a set no older than the rules allow is in place, fetching if it must. */
  private async ensureUsable(): Promise<KeySet> {
    if (this.age() >= this.usableMs) {
      await this.refresh()
      if (!this.set || this.age() >= this.usableMs) throw this.unavailable('no usable key set')
    } else if (this.age() >= this.cacheMs) {
      await this.refresh()
    } else if (this.age() >= this.cacheMs * REFRESH_AHEAD) {
      void this.refresh()
    }
    return this.set!
  }

  /** A refetch for an unknown kid, unless the set is newer than the question or one ran lately. */
  private async refetchForUnknownKid(askedAt: number): Promise<void> {
    if (this.inflight) {
      await this.inflight
      return
    }
    if (this.set && this.set.fetchedAt >= askedAt) return
    if (this.now() - this.refetchedAt < this.cooldownMs) return
    this.refetchedAt = this.now()
    await this.refresh()
  }

  private refresh(): Promise<boolean> {
    if (this.inflight) return this.inflight
    if (this.coolingDown() || this.closer.signal.aborted) return Promise.resolve(false)
    this.inflight = this.fetchOnce().finally(() => {
      this.inflight = null
    })
    return this.inflight
  }

  private async fetchOnce(): Promise<boolean> {
    const attemptAt = this.now()
    const started = performance.now()
    const timeout = new AbortController()
    const signal = AbortSignal.any([this.closer.signal, timeout.signal])
    // A referenced timer: the fetch must settle even when nothing else keeps the process busy.
    const timer = setTimeout(() => timeout.abort(new Error('JWKS fetch timed out')), this.options.timeoutMs)
    try {
      const document = await this.options.load(signal)
      const { keys, skipped } = await importKeySet(document, this.options.algorithms)
      if (skipped.length > 0) this.options.log.warn({ skipped }, 'JWKS keys skipped')
      // An empty set is a provider glitch more likely than a real revocation of every key.
      if (keys.length === 0) throw new InvalidKeySet('no usable signing key in the JWKS')
      this.install(keys)
      this.options.observer.fetched('ok', (performance.now() - started) / 1000)
      return true
    } catch (err) {
      this.failedAt = attemptAt
      if (this.closer.signal.aborted) return false
      const outcome = outcomeOf(err, signal)
      this.options.observer.fetched(outcome, (performance.now() - started) / 1000)
      this.options.log.warn({ outcome, reason: (err as Error).message }, 'JWKS fetch failed')
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  private install(keys: VerificationKey[]): void {
    const previous = this.set
    const next: KeySet = { keys, ids: new Set(keys.map((k) => k.id)), fetchedAt: this.now() }
    this.set = next
    if (!previous) return
    const removed = new Set([...previous.ids].filter((id) => !next.ids.has(id)))
    const added = keys.filter((k) => !previous.ids.has(k.id)).map((k) => k.kid)
    if (removed.size === 0 && added.length === 0) return
    this.options.log.info({ added, removed: removed.size }, 'identity provider keys rotated')
    if (removed.size > 0) this.options.onKeysRemoved?.(removed)
  }
}

export function createKeyStore(options: KeyStoreOptions): KeyStore {
  return new JwksKeyStore(options)
}

/** The key for a header, or why there is none: only an unknown kid is worth a refetch. */
function findKey(
  set: KeySet,
  kid: string | undefined,
  alg: string,
): ResolvedKey | 'unknown_kid' | 'alg_mismatch' | 'ambiguous' {
  const candidates = set.keys.filter((k) => k.kid === kid || kid === undefined)
  if (candidates.length === 0) return kid === undefined ? 'ambiguous' : 'unknown_kid'
  const fitting = candidates.filter((k) => k.byAlg.has(alg))
  if (fitting.length === 0) return 'alg_mismatch'
  // Without a kid, one fitting key is unambiguous; several are, and guessing would be an oracle.
  if (fitting.length > 1 && kid === undefined) return 'ambiguous'
  const key = fitting[0]!
  return { id: key.id, key: key.byAlg.get(alg)! }
}
