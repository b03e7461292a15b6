import type { Logger } from 'pino'
import type { Config } from '../../config/schema.ts'
import { parseAlgorithms } from './algorithms.ts'
import { DEV_AUDIENCE, DEV_ISSUER, loadOrCreateDevKey, publicJwks } from './dev-idp.ts'
import { type JwksLoader, remoteJwksLoader, staticJwksLoader } from './jwks-source.ts'
import { createKeyStore, type KeyStore } from './key-store.ts'
import { type AuthObserver, createObserverRelay } from './observer.ts'
import { createVerifiedCache } from './verified-cache.ts'
import { createVerifier, type TokenVerifier } from './verifier.ts'

export interface AuthSetup {
  verify: TokenVerifier
  keys: KeyStore
  /** The dev IdP's public key set, served at /.well-known/jwks.json; null with a real provider. */
  devJwks: ReturnType<typeof publicJwks> | null
  /** Points verification and fetch events at a listener (the app's metrics). */
  observe(observer: AuthObserver): void
}

interface Trust {
  load: JwksLoader
  issuer: string
  audience: string
  devJwks: AuthSetup['devJwks']
}

async function trustFrom(config: Readonly<Config>): Promise<Trust> {
  if (config.AUTH_DEV) {
    const jwks = publicJwks(await loadOrCreateDevKey(config.DATA_DIR))
    // Same key store and verifier as a real provider; only the loader differs.
    return { load: staticJwksLoader(jwks), issuer: DEV_ISSUER, audience: DEV_AUDIENCE, devJwks: jwks }
  }
  if (!config.AUTH_ISSUER || !config.AUTH_AUDIENCE) {
    throw new Error('AUTH_ISSUER and AUTH_AUDIENCE are required when AUTH_DEV is off')
  }
  return {
    load: remoteJwksLoader({ jwksUrl: config.AUTH_JWKS_URL, issuer: config.AUTH_ISSUER }),
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    devJwks: null,
  }
}

export async function createAuth(config: Readonly<Config>, log: Logger): Promise<AuthSetup> {
  const { allowed, dropped } = parseAlgorithms(config.AUTH_ALGORITHMS)
  if (dropped.length > 0) log.warn({ dropped }, 'AUTH_ALGORITHMS: none and HMAC are never accepted; ignored')
  const trust = await trustFrom(config)
  const relay = createObserverRelay()
  const cache = createVerifiedCache(config.AUTH_TOKEN_CACHE_MAX)
  const keys = createKeyStore({
    load: trust.load,
    algorithms: allowed,
    cacheS: config.AUTH_JWKS_CACHE_S,
    cooldownS: config.AUTH_JWKS_COOLDOWN_S,
    timeoutMs: config.AUTH_JWKS_TIMEOUT_MS,
    maxStaleS: config.AUTH_JWKS_MAX_STALE_S,
    log,
    observer: relay,
    onKeysRemoved: (ids) => cache.forgetKeys(ids),
  })
  const verify = createVerifier({
    keys,
    cache,
    issuer: trust.issuer,
    audience: trust.audience,
    algorithms: allowed,
    clockSkewS: config.AUTH_CLOCK_SKEW_S,
    rolesClaim: config.AUTH_ROLES_CLAIM,
    adminRole: config.AUTH_ADMIN_ROLE,
    observer: relay,
    log,
  })
  return { verify, keys, devJwks: trust.devJwks, observe: (observer) => relay.attach(observer) }
}
