import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Redis } from 'ioredis'
import type { DbOrTx } from '../db/database.ts'
import { rowsOf } from '../db/rows.ts'

/** Counts taken out of the pending set together; `id` makes writing them idempotent. */
export interface CounterBatch {
  id: string
  counts: Map<string, number>
}

/**
 * Counters summed outside the database (in memory, or in Redis so every API replica
 * adds to one set) and written in batches by a job. `take` moves the pending counts
 * into one "flushing" batch and returns it again until `ack`: a flush that failed or
 * crashed is retried with the same id, and `claimCounterBatch` makes it apply once.
 */
export interface PendingCounters {
  add(key: string, n: number): Promise<void>
  take(): Promise<CounterBatch | undefined>
  ack(batchId: string): Promise<void>
}

export function createMemoryCounters(): PendingCounters {
  let pending = new Map<string, number>()
  let flushing: CounterBatch | undefined
  return {
    async add(key, n) {
      pending.set(key, (pending.get(key) ?? 0) + n)
    },
    async take() {
      if (!flushing && pending.size > 0) {
        flushing = { id: randomUUID(), counts: pending }
        pending = new Map()
      }
      return flushing
    },
    async ack(batchId) {
      if (flushing?.id === batchId) flushing = undefined
    },
  }
}

// KEYS: pending hash, flushing hash, flushing id. The rename and the id are one step.
const TAKE = `
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return false end
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('SET', KEYS[3], ARGV[1])
end
return {redis.call('GET', KEYS[3]), redis.call('HGETALL', KEYS[2])}`
const ACK = `
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2]) end
return 1`

/** Keys share a hash tag so the scripts also run on Redis Cluster. */
export function createRedisCounters(redis: Redis, prefix: string, name: string): PendingCounters {
  const base = `${prefix}{counters:${name}}`
  const [pending, flushing, flushingId] = [`${base}:pending`, `${base}:flushing`, `${base}:flushing-id`]
  return {
    async add(key, n) {
      await redis.hincrby(pending, key, n)
    },
    async take() {
      const reply = (await redis.eval(TAKE, 3, pending, flushing, flushingId, randomUUID())) as
        | [string, string[]]
        | null
      if (!reply) return undefined
      const [id, flat] = reply
      const counts = new Map<string, number>()
      for (let i = 0; i < flat.length; i += 2) counts.set(flat[i]!, Number(flat[i + 1]))
      return { id, counts }
    },
    async ack(batchId) {
      await redis.eval(ACK, 2, flushing, flushingId, batchId)
    },
  }
}

/**
 * Records a batch as written, in the transaction that writes it; false when it
 * already was (a retry after a commit whose ack was lost).
 */
export async function claimCounterBatch(tx: DbOrTx, batchId: string): Promise<boolean> {
  const rows = await rowsOf(
    tx.execute(sql`INSERT INTO counter_batches (batch_id) VALUES (${batchId})
      ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id`),
  )
  return rows.length > 0
}

/** Batch ids only need to outlive any retry of their flush. */
export async function purgeCounterBatches(db: DbOrTx): Promise<void> {
  await db.execute(sql`DELETE FROM counter_batches WHERE applied_at < now() - interval '1 day'`)
}
