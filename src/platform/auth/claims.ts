import type { JWTPayload } from 'jose'
import { refused } from './errors.ts'
import type { Identity } from './principal.ts'

const MAX_SUBJECT_LENGTH = 255
const MAX_EMAIL_LENGTH = 320
const MAX_ROLES = 100

/** Reads a claim by dot path; a claim name that is itself a URL (namespaced claims) is tried whole first. */
export function readClaim(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path]
  let node: unknown = payload
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

/** Roles from a string (space or comma separated, as in OAuth `scope`) or an array of strings. */
export function rolesOf(payload: JWTPayload, claim: string): string[] {
  const value = readClaim(payload, claim)
  let roles: string[] = []
  if (typeof value === 'string') roles = value.split(/[\s,]+/)
  else if (Array.isArray(value)) roles = value.filter((r): r is string => typeof r === 'string')
  return [...new Set(roles.filter(Boolean))].slice(0, MAX_ROLES)
}

export interface ClaimMapping {
  rolesClaim: string
  adminRole: string
}

/** The identity a verified payload asserts; a subject that could not key a profile is refused. */
export function toIdentity(payload: JWTPayload, mapping: ClaimMapping): Identity {
  const { sub, email } = payload
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH)
    throw refused('invalid_token', 'bad sub')
  const roles = rolesOf(payload, mapping.rolesClaim)
  return {
    subject: sub,
    email: typeof email === 'string' && email.length <= MAX_EMAIL_LENGTH ? email : undefined,
    roles,
    isAdmin: roles.includes(mapping.adminRole),
  }
}
