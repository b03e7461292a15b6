import { hash } from 'node:crypto'
import { memoOn } from '../memo-on.ts'

const ENTITY_TAG = Symbol('entity tag')

/**
 * A strong entity tag of a JSON representation. Cached objects are shared by
 * reference, so each one is hashed once, not per request.
 */
export function entityTag(value: object): string {
  return memoOn(value, ENTITY_TAG, hashOf)
}

const hashOf = (value: object) => `"${hash('sha256', JSON.stringify(value), 'base64url').slice(0, 22)}"`

/** If-None-Match (RFC 9110 §13.1.2): weak comparison against any listed tag, or `*`. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false
  const bare = (tag: string) => tag.trim().replace(/^W\//, '')
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag))
}
