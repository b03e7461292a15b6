import { randomUUID } from 'node:crypto'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose'

export const ISSUER = 'https://idp.test.example/'
export const AUDIENCE = 'inkwell-api'

export interface TestKey {
  alg: string
  kid: string
  privateKey: CryptoKey
  /** The public JWK as a provider would publish it. */
  jwk: JWK
}

export async function makeKey(
  alg: 'RS256' | 'ES256' | 'EdDSA' | 'PS256',
  kid: string = randomUUID(),
): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }
  return { alg, kid, privateKey, jwk }
}

export interface SignOptions {
  claims?: JWTPayload
  header?: Record<string, unknown>
  /** Seconds from now; null leaves `exp` out. */
  expiresIn?: number | null
  issuer?: string
  audience?: string | string[]
  subject?: string
}

/** A token as a provider would issue it, with any claim or header overridable. */
export async function sign(key: TestKey, options: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject(options.subject ?? `user-${randomUUID()}`)
  if (options.claims?.iat === undefined) jwt.setIssuedAt(now)
  if (options.expiresIn !== null) jwt.setExpirationTime(now + (options.expiresIn ?? 3600))
  return jwt.sign(key.privateKey)
}

export const b64url = (value: string | Uint8Array | object): string =>
  Buffer.from(
    typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value),
  ).toString('base64url')

/** Overrides for an app that trusts `server` instead of the development IdP. */
export function providerSettings(
  jwksUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AUTH_DEV: 'false',
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_JWKS_URL: jwksUrl,
    // These files test verification. On a busy machine, PGlite start-up or a 1,000-request
    // storm stalls the loop (which also serves the JWKS): no shedding, no request deadline,
    // and a fetch timeout no healthy fetch can reach. The slow-provider tests set their own.
    SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    REQUEST_TIMEOUT_MS: '600000',
    AUTH_JWKS_TIMEOUT_MS: '60000',
    ...extra,
  }
}
