import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { Identity } from './principal.ts'

export interface VerifiedToken {
  identity: Identity
  /** The token's `exp`, in ms: the entry is never used at or past it. */
  expiresAt: number
  /** The key that verified it; when that key leaves the set, the entry goes too. */
  keyId: string
}

export interface VerifiedCache {
  get(hash: string): VerifiedToken | undefined
  set(hash: string, entry: VerifiedToken): void
  forgetKeys(keyIds: ReadonlySet<string>): void
  readonly size: number
}

/** Tokens are bearer secrets: the cache holds their SHA-256, never the token. */
export const tokenHash = (token: string): string => hash('sha256', token, 'base64url')

/** A bounded LRU of verified tokens, so a hot token skips the signature check until it expires. */
export function createVerifiedCache(max: number, now: () => number = Date.now): VerifiedCache {
  if (max === 0) return { get: () => undefined, set() {}, forgetKeys() {}, size: 0 }
  const lru = new LRUCache<string, VerifiedToken>({ max })
  return {
    get(hash) {
      const entry = lru.get(hash)
      if (entry && entry.expiresAt > now()) return entry
      if (entry) lru.delete(hash)
      return undefined
    },
    set(hash, entry) {
      if (entry.expiresAt > now()) lru.set(hash, entry)
    },
    forgetKeys(keyIds) {
      const doomed = [...lru.entries()].filter(([, entry]) => keyIds.has(entry.keyId)).map(([hash]) => hash)
      for (const hash of doomed) lru.delete(hash)
    },
    get size() {
      return lru.size
    },
  }
}
