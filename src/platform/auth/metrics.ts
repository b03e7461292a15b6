import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { tallies } from '../observability/tallies.ts'
import type { KeyStore } from './key-store.ts'
import type { AuthObserver } from './observer.ts'

/** Auth metrics on the app's registry; the key-set gauges are read at scrape time. */
export function createAuthMetrics(
  registry: Registry,
  keys: Pick<KeyStore, 'ageSeconds' | 'size'>,
): AuthObserver {
  const verifications = new Counter({
    name: 'auth_verifications_total',
    help: 'Bearer token verifications by result code; cached="true" skipped the signature check',
    labelNames: ['result', 'cached'] as const,
    registers: [registry],
  })
  const fetches = new Counter({
    name: 'auth_jwks_fetches_total',
    help: 'JWKS (and OIDC discovery) fetches by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  const fetchDuration = new Histogram({
    name: 'auth_jwks_fetch_duration_seconds',
    help: 'JWKS fetch duration by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  new Gauge({
    name: 'auth_jwks_age_seconds',
    help: 'Age of the key set in use; -1 before the first successful fetch',
    registers: [registry],
    collect() {
      this.set(keys.ageSeconds() ?? -1)
    },
  })
  new Gauge({
    name: 'auth_jwks_keys',
    help: 'Usable signing keys in the key set',
    registers: [registry],
    collect() {
      this.set(keys.size())
    },
  })
  // Every authenticated request counts one verification: tallied (see tallies.ts), and
  // the hot token's series resolved once.
  const verification = tallies(verifications, ['result', 'cached'])
  const cachedOk = verification('ok', 'true')
  return {
    verified: (result, cached) =>
      (result === 'ok' && cached ? cachedOk : verification(result, String(cached))).inc(),
    fetched(outcome, seconds) {
      fetches.inc({ outcome })
      fetchDuration.observe({ outcome }, seconds)
    },
  }
}
