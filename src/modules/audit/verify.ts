import { and, asc, desc, gt, isNotNull, isNull, sql } from 'drizzle-orm'
import type { Db } from '../../platform/db/database.ts'
import { auditCheckpoints, auditLog } from './audit.table.ts'
import { checkpointHash, GENESIS_HASH, rowHash } from './chain.ts'

export interface BrokenLink {
  /** The chain position where verification failed. */
  seq: number
  /** The row found there, if any (a deleted row leaves none). */
  id: number | null
  reason: 'row_missing' | 'prev_hash_mismatch' | 'hash_mismatch' | 'checkpoint_invalid'
}

export interface VerifyResult {
  ok: boolean
  /** Sealed rows whose hashes were recomputed. */
  checked: number
  /** Rows not yet sealed (not covered by the chain until the sealer runs). */
  unsealed: number
  /** The checkpoint verification started from, if the log was purged. */
  fromCheckpoint: number | null
  broken: BrokenLink | null
}

const PAGE = 1000

async function startingPoint(db: Db, key: Buffer) {
  const [checkpoint] = await db
    .select()
    .from(auditCheckpoints)
    .orderBy(desc(auditCheckpoints.throughSeq))
    .limit(1)
  if (!checkpoint) return { seq: 0, hash: GENESIS_HASH, checkpoint: null, valid: true }
  const valid = checkpointHash(key, checkpoint) === checkpoint.hash
  return { seq: checkpoint.throughSeq, hash: checkpoint.anchorHash, checkpoint: checkpoint.throughSeq, valid }
}

async function countUnsealed(db: Db): Promise<number> {
  const [row] = await db.select({ n: sql<string>`count(*)::text` }).from(auditLog).where(isNull(auditLog.seq))
  return Number(row?.n ?? 0)
}

/**
 * Walks the sealed chain in `seq` order from genesis (or the latest purge
 * checkpoint), recomputing every hash. The first link that does not hold is named:
 * a gap in `seq` is a deleted row, a wrong `prev_hash` a rewired chain, a wrong
 * `hash` an edited row.
 */
export async function verifyChain(db: Db, key: Buffer): Promise<VerifyResult> {
  const start = await startingPoint(db, key)
  const result: VerifyResult = {
    ok: true,
    checked: 0,
    unsealed: await countUnsealed(db),
    fromCheckpoint: start.checkpoint,
    broken: null,
  }
  const fail = (broken: BrokenLink) => ({ ...result, ok: false, broken })
  if (!start.valid) return fail({ seq: start.seq, id: null, reason: 'checkpoint_invalid' })
  let expected = { seq: start.seq + 1, prev: start.hash }
  for (;;) {
    const rows = await db
      .select()
      .from(auditLog)
      .where(and(isNotNull(auditLog.seq), gt(auditLog.seq, expected.seq - 1)))
      .orderBy(asc(auditLog.seq))
      .limit(PAGE)
    for (const row of rows) {
      const seq = expected.seq
      if (row.seq !== seq) return fail({ seq, id: null, reason: 'row_missing' })
      if (row.prevHash !== expected.prev) return fail({ seq, id: row.id, reason: 'prev_hash_mismatch' })
      if (rowHash(key, expected.prev, { ...row, seq }) !== row.hash)
        return fail({ seq, id: row.id, reason: 'hash_mismatch' })
      result.checked++
      expected = { seq: expected.seq + 1, prev: row.hash }
    }
    if (rows.length < PAGE) return result
  }
}
