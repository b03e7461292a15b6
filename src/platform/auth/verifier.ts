import { type CryptoKey, errors, type JWTPayload, jwtVerify } from 'jose'
import type { Logger } from 'pino'
import { AppError } from '../http/errors.ts'
import type { MaybePromise } from '../maybe-promise.ts'
import { type ClaimMapping, toIdentity } from './claims.ts'
import { refused } from './errors.ts'
import type { KeyStore } from './key-store.ts'
import type { AuthObserver, VerificationResult } from './observer.ts'
import type { Identity } from './principal.ts'
import { checkLength, checkShape, readHeader } from './token-header.ts'
import { tokenHash, type VerifiedCache } from './verified-cache.ts'

export interface VerifierOptions extends ClaimMapping {
  keys: Pick<KeyStore, 'resolve' | 'canReuse'>
  cache: VerifiedCache
  issuer: string
  audience: string
  algorithms: readonly string[]
  clockSkewS: number
  observer: Pick<AuthObserver, 'verified'>
  log: Pick<Logger, 'debug'>
  now?: () => number
}

/** Synchronous for a token already verified (the hot path); a Promise otherwise, and for every refusal. */
export type TokenVerifier = (token: string) => MaybePromise<Identity>

function resultOf(err: unknown): VerificationResult {
  if (err instanceof AppError && (err.code === 'token_expired' || err.code === 'auth_unavailable'))
    return err.code
  return 'invalid_token'
}

/** Signature and registered claims; every jose failure becomes a refusal that names no check. */
async function verifySignedClaims(
  token: string,
  key: CryptoKey,
  options: VerifierOptions,
): Promise<JWTPayload> {
  const now = (options.now ?? Date.now)()
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(token, key, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [...options.algorithms],
      clockTolerance: options.clockSkewS,
      requiredClaims: ['exp', 'sub'],
      currentDate: new Date(now),
    }))
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw refused('token_expired', err.message)
    throw refused('invalid_token', (err as Error).message)
  }
  // jose checks iat only against a maximum age; a token from the future is refused here.
  if (typeof payload.iat === 'number' && payload.iat > now / 1000 + options.clockSkewS)
    throw refused('invalid_token', 'iat in the future')
  return payload
}

/**
 * Verifies a Bearer token against the provider's keys: size first (no hashing or
 * parsing of an oversize token), then the verified-token cache, then shape, header
 * rules, the key store, the signature and the claims.
 */
export function createVerifier(options: VerifierOptions): TokenVerifier {
  const allowed = new Set(options.algorithms)
  const refuse = (err: unknown): never => {
    const result = resultOf(err)
    options.observer.verified(result, false)
    options.log.debug({ result, reason: String((err as Error).cause ?? '') }, 'access token refused')
    throw err
  }
  const verifyFully = async (token: string, hash: string): Promise<Identity> => {
    checkShape(token)
    const header = readHeader(token, allowed)
    const key = await options.keys.resolve(header.kid, header.alg)
    const payload = await verifySignedClaims(token, key.key, options)
    const identity = toIdentity(payload, options)
    options.cache.set(hash, { identity, expiresAt: (payload.exp as number) * 1000, keyId: key.id })
    options.observer.verified('ok', false)
    return identity
  }
  return (token) => {
    let hash: string
    try {
      checkLength(token)
      hash = tokenHash(token)
    } catch (err) {
      return Promise.reject(err).catch(refuse)
    }
    // A hit is this very token (its SHA-256), whose shape was checked when it was
    // verified: the per-segment scan (in verifyFully) is only for tokens not seen lately.
    const hit = options.cache.get(hash)
    if (hit && options.keys.canReuse(hit.keyId)) {
      options.observer.verified('ok', true)
      return hit.identity
    }
    return verifyFully(token, hash).catch(refuse)
  }
}
