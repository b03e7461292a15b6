import type { JWK } from 'jose'

const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const EC_BY_CURVE: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }
const EDDSA = ['EdDSA', 'Ed25519']
const SUPPORTED = new Set([...RSA, ...Object.values(EC_BY_CURVE), ...EDDSA])

/**
 * The accepted JWS algorithms. `none` and HMAC are dropped whatever the setting
 * says: a JWKS holds public keys, and an HMAC "verified" with public bytes is the
 * classic key-confusion forgery. An unknown name is a configuration error.
 */
export function parseAlgorithms(setting: string): { allowed: string[]; dropped: string[] } {
  const names = setting
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const dropped = names.filter((a) => a.toLowerCase() === 'none' || a.toUpperCase().startsWith('HS'))
  const allowed = names.filter((a) => !dropped.includes(a))
  const unknown = allowed.filter((a) => !SUPPORTED.has(a))
  if (unknown.length > 0) throw new Error(`AUTH_ALGORITHMS: unsupported algorithm(s) ${unknown.join(', ')}`)
  if (allowed.length === 0) throw new Error('AUTH_ALGORITHMS: no asymmetric algorithm left to accept')
  return { allowed: [...new Set(allowed)], dropped }
}

/** The allowed algorithms a public JWK may verify; a key's own `alg`, when set, is the only one. */
export function algorithmsForJwk(jwk: JWK, allowed: readonly string[]): string[] {
  let fitting: string[]
  if (jwk.kty === 'RSA') fitting = RSA
  else if (jwk.kty === 'EC') fitting = jwk.crv && EC_BY_CURVE[jwk.crv] ? [EC_BY_CURVE[jwk.crv]!] : []
  else if (jwk.kty === 'OKP') fitting = jwk.crv === 'Ed25519' ? EDDSA : []
  else fitting = []
  if (typeof jwk.alg === 'string') fitting = fitting.includes(jwk.alg) ? [jwk.alg] : []
  return fitting.filter((a) => allowed.includes(a))
}
