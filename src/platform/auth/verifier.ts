import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose'
import { AppError } from '../http/errors.ts'
import type { Identity } from './principal.ts'

export const MAX_TOKEN_BYTES = 8192
const REALM = 'Bearer realm="inkwell"'

export interface VerifierOptions {
  keySet: JWTVerifyGetKey
  issuer: string
  audience: string
  algorithms: string[]
  clockSkewS: number
  rolesClaim: string
  adminRole: string
}

export type TokenVerifier = (token: string) => Promise<Identity>

function invalidToken(code: 'invalid_token' | 'token_expired', cause?: unknown): AppError {
  const description = code === 'token_expired' ? 'The access token expired' : 'The access token is invalid'
  return new AppError(code, description, {
    cause,
    headers: { 'www-authenticate': `${REALM}, error="invalid_token", error_description="${description}"` },
  })
}

export function unauthenticated(): AppError {
  return new AppError('unauthenticated', 'This endpoint needs a Bearer access token', {
    headers: { 'www-authenticate': REALM },
  })
}

/** Reads a claim by dot path; a claim name that is itself a URL (namespaced claims) is tried whole first. */
export function readClaim(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path]
  let node: unknown = payload
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

function rolesOf(payload: JWTPayload, claim: string): string[] {
  const value = readClaim(payload, claim)
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean)
  if (Array.isArray(value)) return value.filter((r): r is string => typeof r === 'string')
  return []
}

export function createVerifier(options: VerifierOptions): TokenVerifier {
  const algorithms = options.algorithms.filter((a) => a !== 'none' && !a.startsWith('HS'))
  return async (token) => {
    if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) throw invalidToken('invalid_token')
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, options.keySet, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        clockTolerance: options.clockSkewS,
        requiredClaims: ['exp', 'sub'],
      }))
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw invalidToken('token_expired', err)
      if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
        throw new AppError('auth_unavailable', 'The identity provider cannot be reached; retry shortly', {
          cause: err,
          headers: { 'retry-after': '5' },
        })
      }
      throw invalidToken('invalid_token', err)
    }
    const iat = payload.iat
    if (typeof iat === 'number' && iat > Date.now() / 1000 + options.clockSkewS)
      throw invalidToken('invalid_token')
    const roles = rolesOf(payload, options.rolesClaim)
    return {
      subject: payload.sub!,
      email: typeof payload.email === 'string' ? payload.email : undefined,
      roles,
      isAdmin: roles.includes(options.adminRole),
    }
  }
}
