import { setTimeout as sleep } from 'node:timers/promises'
import type { Db, Tx } from './database.ts'
import { sqlState } from './errors.ts'

/** serialization_failure and deadlock_detected: the transaction did nothing and may simply run again. */
const RETRYABLE = new Set(['40001', '40P01'])

export interface TransactionOptions {
  /** Further attempts after the first (default 3). */
  retries?: number
  isolationLevel?: 'read committed' | 'repeatable read' | 'serializable'
}

/**
 * Runs `fn` in one transaction; a serialization failure or deadlock rolls it back
 * and runs it again after a jittered exponential backoff, a bounded number of times.
 * Every multi-step write goes through here, so it is all-or-nothing.
 * `fn` may run more than once: it must not have side effects outside the transaction.
 */
export async function inTransaction<T>(
  db: Db,
  fn: (tx: Tx) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const retries = options.retries ?? 3
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction(
        fn,
        options.isolationLevel ? { isolationLevel: options.isolationLevel } : undefined,
      )
    } catch (err) {
      const state = sqlState(err)
      if (attempt >= retries || state === undefined || !RETRYABLE.has(state)) throw err
      // Full jitter: spreads the retries of transactions that collided.
      await sleep(Math.random() * Math.min(200, 10 * 2 ** attempt))
    }
  }
}
