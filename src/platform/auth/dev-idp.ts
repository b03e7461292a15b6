import { randomUUID } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose'

/**
 * The development identity provider: an ES256 key kept in DATA_DIR. The server
 * publishes its public half as a JWKS and verifies dev tokens through the same code
 * path as any provider's; `npm run token` signs with the private half.
 */
export const DEV_ISSUER = 'inkwell-dev-idp'
export const DEV_AUDIENCE = 'inkwell'
const KEY_FILE = 'dev-idp-key.json'

export async function loadOrCreateDevKey(dataDir: string): Promise<JWK> {
  const path = join(dataDir, KEY_FILE)
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as JWK
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' }
  mkdirSync(dataDir, { recursive: true })
  try {
    // 'wx': if a server and `npm run token` race on a fresh DATA_DIR, one key wins.
    writeFileSync(path, JSON.stringify(jwk), { flag: 'wx', mode: 0o600 })
    return jwk
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return JSON.parse(readFileSync(path, 'utf8')) as JWK
  }
}

export function publicJwks(privateJwk: JWK): { keys: JWK[] } {
  const { d: _private, ...publicJwk } = privateJwk
  return { keys: [publicJwk] }
}

export interface DevTokenRequest {
  subject: string
  roles?: string[]
  email?: string
  ttlSeconds: number
  rolesClaim?: string
}

export async function signDevToken(privateJwk: JWK, request: DevTokenRequest): Promise<string> {
  const key = await importJWK(privateJwk, 'ES256')
  const claims: Record<string, unknown> = {}
  if (request.email) claims.email = request.email
  if (request.roles && request.roles.length > 0) setPath(claims, request.rolesClaim ?? 'roles', request.roles)
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid!, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject(request.subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + request.ttlSeconds)
    .sign(key)
}

/** Sets a dot-path claim (`app_metadata.roles` nests); a URL-like claim name stays whole. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.includes('://') ? [path] : path.split('.')
  let node = target
  for (const part of parts.slice(0, -1)) {
    node[part] = (node[part] as Record<string, unknown>) ?? {}
    node = node[part] as Record<string, unknown>
  }
  node[parts.at(-1)!] = value
}
