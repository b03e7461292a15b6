import { passwordOf } from '../database-url.ts'
import type { SecretStore } from './store.ts'

/** The pool's password: asked on every new connection, told when PostgreSQL refuses it. */
export interface RotatingPassword {
  (): Promise<string>
  /**
   * PostgreSQL refused the password a new connection presented (28P01): the secrets
   * manager probably holds a newer one, so it is fetched now rather than when the
   * cache's TTL lapses; at most once per cooldown, however many connections fail.
   */
  refused(): void
}

/** A refused password refetches at most this often (a wrong password must not hammer the provider). */
export const REFUSED_REFETCH_COOLDOWN_MS = 5_000

/**
 * node-postgres asks this on every new connection, so after a rotation (new
 * DATABASE_URL in the secrets manager) new connections use the new password while
 * open ones live out their maximum lifetime. Host, user and database are fixed at
 * startup: only the password rotates without a restart.
 */
export function databasePassword(
  store: SecretStore,
  startupUrl: string,
  now: () => number = Date.now,
): RotatingPassword {
  const fallback = passwordOf(startupUrl) ?? ''
  let lastRefetch = Number.NEGATIVE_INFINITY
  // The connection opened right after a refusal waits for the refetch it triggered.
  let refetch: Promise<unknown> | undefined
  const password = async () => {
    if (refetch) await refetch
    const url = await store.get('DATABASE_URL')
    return (url ? passwordOf(url) : undefined) ?? fallback
  }
  return Object.assign(password, {
    refused() {
      if (now() - lastRefetch < REFUSED_REFETCH_COOLDOWN_MS) return
      lastRefetch = now()
      // refresh() never rejects: a failed fetch is logged and counted by the store.
      refetch = store.refresh().finally(() => {
        refetch = undefined
      })
    },
  })
}
