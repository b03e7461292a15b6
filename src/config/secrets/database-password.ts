import { passwordOf } from '../database-url.ts'
import type { SecretStore } from './store.ts'

/**
 * node-postgres asks this on every new connection, so after a rotation (new
 * DATABASE_URL in the secrets manager) new connections use the new password while
 * open ones live out their maximum lifetime. Host, user and database are fixed at
 * startup: only the password rotates without a restart.
 */
export function databasePassword(store: SecretStore, startupUrl: string): () => Promise<string> {
  const fallback = passwordOf(startupUrl) ?? ''
  return async () => {
    const url = await store.get('DATABASE_URL')
    return (url ? passwordOf(url) : undefined) ?? fallback
  }
}
