import { createLocalJWKSet, createRemoteJWKSet } from 'jose'
import type { Config } from '../../config/schema.ts'
import { DEV_AUDIENCE, DEV_ISSUER, loadOrCreateDevKey, publicJwks } from './dev-idp.ts'
import { createVerifier, type TokenVerifier } from './verifier.ts'

export interface AuthSetup {
  verify: TokenVerifier
  /** The dev IdP's public key set, served at /.well-known/jwks.json; null with a real provider. */
  devJwks: ReturnType<typeof publicJwks> | null
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

export async function createAuth(config: Readonly<Config>): Promise<AuthSetup> {
  const common = {
    algorithms: list(config.AUTH_ALGORITHMS),
    clockSkewS: config.AUTH_CLOCK_SKEW_S,
    rolesClaim: config.AUTH_ROLES_CLAIM,
    adminRole: config.AUTH_ADMIN_ROLE,
  }
  if (config.AUTH_DEV) {
    const jwks = publicJwks(await loadOrCreateDevKey(config.DATA_DIR))
    // Same verification path as a real provider, with the key set held locally.
    const verify = createVerifier({
      ...common,
      keySet: createLocalJWKSet(jwks),
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
    })
    return { verify, devJwks: jwks }
  }
  if (!config.AUTH_ISSUER || !config.AUTH_AUDIENCE) {
    throw new Error('AUTH_ISSUER and AUTH_AUDIENCE are required when AUTH_DEV is off')
  }
  const jwksUrl = new URL(
    config.AUTH_JWKS_URL ?? `${config.AUTH_ISSUER.replace(/\/$/, '')}/.well-known/jwks.json`,
  )
  const verify = createVerifier({
    ...common,
    keySet: createRemoteJWKSet(jwksUrl, {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
      cacheMaxAge: 600_000,
    }),
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
  })
  return { verify, devJwks: null }
}
