/** What a verification ended as; the metric label and the problem code are the same words. */
export type VerificationResult = 'ok' | 'invalid_token' | 'token_expired' | 'auth_unavailable'

export type FetchOutcome =
  | 'ok'
  | 'timeout'
  | 'network_error'
  | 'http_error'
  | 'invalid_response'
  | 'discovery_failed'

/** Events the verifier and key store report; metrics are one listener. */
export interface AuthObserver {
  verified(result: VerificationResult, cached: boolean): void
  fetched(outcome: FetchOutcome, seconds: number): void
}

/**
 * The verifier is built before the app (and its metrics registry) exists, so it
 * reports to this relay, which the auth plugin points at the app's metrics.
 */
export function createObserverRelay(): AuthObserver & { attach(target: AuthObserver): void } {
  let target: AuthObserver | null = null
  return {
    verified: (result, cached) => target?.verified(result, cached),
    fetched: (outcome, seconds) => target?.fetched(outcome, seconds),
    attach(next) {
      target = next
    },
  }
}
