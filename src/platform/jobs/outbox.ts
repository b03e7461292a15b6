import { AsyncResource } from 'node:async_hooks'
import { sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Db, DbOrTx } from '../db/database.ts'
import { rowsOf } from '../db/rows.ts'
import { outsideScope } from '../request-scope.ts'

/**
 * The transactional outbox. A job that must follow a write is inserted in the
 * write's own transaction, so it exists exactly when the write committed; the relay
 * hands each row to the queue (idempotently, keyed by the row id) and deletes it
 * only after the hand-off. A crash anywhere leaves the row for the next relay pass.
 */
export async function addToOutbox(tx: DbOrTx, jobName: string, payload: unknown): Promise<void> {
  await tx.execute(
    sql`INSERT INTO job_outbox (job_name, payload) VALUES (${jobName}, ${JSON.stringify(payload)}::jsonb)`,
  )
}

interface OutboxRow {
  id: string | number
  job_name: string
  payload: unknown
}

/** Resolves once the job can no longer be lost; `key` de-duplicates a second hand-off. */
export type Deliver = (name: string, payload: unknown, key: string) => Promise<void>

export interface OutboxRelay {
  start(): void
  /** Relay now (called after a commit that wrote the outbox), without waiting. */
  nudge(): void
  /** Relays every pending row and waits (tests, shutdown). */
  drain(): Promise<void>
  stop(): Promise<void>
}

export function createOutboxRelay(db: Db, deliver: Deliver, log: Logger, intervalMs = 1000): OutboxRelay {
  let timer: NodeJS.Timeout | undefined
  let current: Promise<void> | undefined
  let again = false
  let stopped = false
  // A nudge comes from a request: the pass starts outside its scope (request-scope.ts),
  // so its statements never take the request's deadline, and in the relay's own async
  // context (which database.countStatements follows).
  const context = new AsyncResource('inkwell.outbox')

  const pass = async () => {
    for (;;) {
      const rows = await rowsOf<OutboxRow>(
        db.execute(sql`SELECT id, job_name, payload FROM job_outbox ORDER BY id LIMIT 100`),
      )
      for (const row of rows) {
        await deliver(row.job_name, row.payload, `outbox-${row.id}`)
        await db.execute(sql`DELETE FROM job_outbox WHERE id = ${row.id}`)
      }
      if (rows.length < 100 || stopped) return
    }
  }
  // One pass at a time; a nudge during a pass asks for one more.
  const run = (): Promise<void> => {
    if (current) {
      again = true
      return current
    }
    current = pass()
      .catch((err) => log.error({ err }, 'outbox relay failed; retrying on the next pass'))
      .finally(() => {
        current = undefined
        if (again && !stopped) {
          again = false
          void run()
        }
      })
    return current
  }

  return {
    start() {
      timer = setInterval(() => void run(), intervalMs)
      timer.unref()
      void run()
    },
    nudge: () => void context.runInAsyncScope(() => outsideScope(run)),
    async drain() {
      await current
      await run()
    },
    async stop() {
      stopped = true
      clearInterval(timer)
      await current
    },
  }
}
