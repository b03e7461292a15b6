import { type CryptoKey, calculateJwkThumbprint, importJWK, type JWK } from 'jose'
import { algorithmsForJwk } from './algorithms.ts'

/** One public key of the provider, imported once per algorithm it may verify. */
export interface VerificationKey {
  /** `kid#thumbprint`: a kid whose key material changes counts as a different key. */
  id: string
  kid: string | undefined
  byAlg: Map<string, CryptoKey>
}

export class InvalidKeySet extends Error {
  override readonly name = 'InvalidKeySet'
}

const MAX_KEYS = 100
const MIN_RSA_BITS = 2048
const PUBLIC_MEMBERS: Record<string, string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] }
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Why a JWK is not trusted, or null when it may verify signatures. */
function rejection(jwk: Record<string, unknown>): string | null {
  if (typeof jwk.kty !== 'string' || !(jwk.kty in PUBLIC_MEMBERS)) return `unsupported kty ${String(jwk.kty)}`
  // A published private key means anyone can sign: trust none of it.
  if ('d' in jwk) return 'contains private key material'
  if (jwk.use !== undefined && jwk.use !== 'sig') return `use is ${String(jwk.use)}`
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
    return 'key_ops lacks verify'
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length > 256)) return 'bad kid'
  if (
    jwk.kty === 'RSA' &&
    typeof jwk.n === 'string' &&
    Buffer.from(jwk.n, 'base64url').length * 8 < MIN_RSA_BITS
  )
    return `RSA modulus under ${MIN_RSA_BITS} bits`
  return null
}

async function importKey(
  jwk: Record<string, unknown>,
  allowed: readonly string[],
): Promise<VerificationKey | null> {
  const kty = jwk.kty as string
  const material: Record<string, unknown> = { kty }
  for (const member of PUBLIC_MEMBERS[kty]!)
    if (typeof jwk[member] === 'string') material[member] = jwk[member]
  const algorithms = algorithmsForJwk({ ...material, alg: jwk.alg } as JWK, allowed)
  if (algorithms.length === 0) return null
  const byAlg = new Map<string, CryptoKey>()
  for (const alg of algorithms) byAlg.set(alg, (await importJWK(material as JWK, alg)) as CryptoKey)
  const kid = jwk.kid as string | undefined
  return { id: `${kid ?? ''}#${await calculateJwkThumbprint(material as JWK)}`, kid, byAlg }
}

/**
 * Imports the usable signing keys of a JWKS document. Keys we cannot or must not
 * use are skipped (and reported), never fatal: one odd key must not lock everyone out.
 */
export async function importKeySet(
  document: unknown,
  allowed: readonly string[],
): Promise<{ keys: VerificationKey[]; skipped: string[] }> {
  if (!isObject(document) || !Array.isArray(document.keys)) throw new InvalidKeySet('not a JWKS document')
  const keys: VerificationKey[] = []
  const skipped: string[] = []
  for (const jwk of document.keys.slice(0, MAX_KEYS)) {
    const reason = isObject(jwk) ? rejection(jwk) : 'not an object'
    const label = isObject(jwk) && typeof jwk.kid === 'string' ? jwk.kid.slice(0, 64) : '(no kid)'
    if (reason) {
      skipped.push(`${label}: ${reason}`)
      continue
    }
    try {
      const key = await importKey(jwk as Record<string, unknown>, allowed)
      if (key) keys.push(key)
      else skipped.push(`${label}: no allowed algorithm fits`)
    } catch (err) {
      skipped.push(`${label}: ${(err as Error).message}`)
    }
  }
  return { keys, skipped }
}
