import { decodeProtectedHeader } from 'jose'
import { refused } from './errors.ts'

export const MAX_TOKEN_BYTES = 8192
const SEGMENT = /^[A-Za-z0-9_-]+$/
const MAX_KID_LENGTH = 256

export interface TokenHeader {
  alg: string
  kid: string | undefined
}

/** At most MAX_TOKEN_BYTES: checked before the token is hashed or parsed. */
export function checkLength(token: string): void {
  // Length in UTF-16 units bounds the bytes too: anything non-ASCII fails checkShape.
  if (token.length > MAX_TOKEN_BYTES) throw refused('invalid_token', 'token over 8 KB')
}

/** Compact JWS shape: three non-empty base64url segments, none of an impossible length. */
export function checkShape(token: string): void {
  checkLength(token)
  const segments = token.split('.', 4)
  if (segments.length !== 3) throw refused('invalid_token', 'not a compact JWS')
  for (const segment of segments)
    if (!SEGMENT.test(segment) || segment.length % 4 === 1)
      throw refused('invalid_token', 'segment is not base64url')
}

/**
 * The protected header, reduced to what we act on. `jwk`, `jku`, `x5u` and `x5c`
 * are never read: keys come only from the configured JWKS. Any `crit` is refused,
 * since no extension is understood here.
 */
export function readHeader(token: string, allowed: ReadonlySet<string>): TokenHeader {
  let header: Record<string, unknown>
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>
  } catch {
    throw refused('invalid_token', 'header is not a JSON object')
  }
  const { alg, kid } = header
  if (typeof alg !== 'string' || !allowed.has(alg)) throw refused('invalid_token', 'algorithm not allowed')
  if ('crit' in header) throw refused('invalid_token', 'crit header')
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH))
    throw refused('invalid_token', 'bad kid')
  return { alg, kid }
}
