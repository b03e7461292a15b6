import { hash } from 'node:crypto'

// Cached objects are shared by reference, so each one is hashed once, not per request.
const memo = new WeakMap<object, string>()

/** A strong entity tag of a JSON representation. */
export function entityTag(value: object): string {
  let tag = memo.get(value)
  if (tag === undefined) {
    tag = `"${hash('sha256', JSON.stringify(value), 'base64url').slice(0, 22)}"`
    memo.set(value, tag)
  }
  return tag
}

/** If-None-Match (RFC 9110 §13.1.2): weak comparison against any listed tag, or `*`. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false
  const bare = (tag: string) => tag.trim().replace(/^W\//, '')
  return header.split(',').some((tag) => tag.trim() === '*' || bare(tag) === bare(etag))
}
