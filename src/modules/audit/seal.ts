import { asc, desc, isNotNull, isNull, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Db, Tx } from '../../platform/db/database.ts'
import { rowsOf } from '../../platform/db/rows.ts'
import { inTransaction } from '../../platform/db/transaction.ts'
import { auditCheckpoints, auditLog } from './audit.table.ts'
import { checkpointHash, GENESIS_HASH, rowHash } from './chain.ts'

/** One advisory lock for everything that extends or trims the chain: a single sealer at a time. */
const CHAIN_LOCK = sql`SELECT pg_try_advisory_xact_lock(hashtext('inkwell.audit.chain')) AS locked`
const BATCH = 500
/** Bounds one run so a backlog cannot hold the lock (and a connection) for long. */
const MAX_BATCHES = 20

async function tryChainLock(tx: Tx): Promise<boolean> {
  const [row] = await rowsOf<{ locked: boolean }>(tx.execute(CHAIN_LOCK))
  return row?.locked === true
}

/** The chain's head: the last sealed row, else the latest purge checkpoint, else genesis. */
async function chainHead(tx: Tx): Promise<{ seq: number; hash: string }> {
  const [last] = await tx
    .select({ seq: auditLog.seq, hash: auditLog.hash })
    .from(auditLog)
    .where(isNotNull(auditLog.seq))
    .orderBy(desc(auditLog.seq))
    .limit(1)
  if (last?.seq && last.hash) return { seq: last.seq, hash: last.hash }
  const [checkpoint] = await tx
    .select({ seq: auditCheckpoints.throughSeq, hash: auditCheckpoints.anchorHash })
    .from(auditCheckpoints)
    .orderBy(desc(auditCheckpoints.throughSeq))
    .limit(1)
  return checkpoint ? { seq: checkpoint.seq, hash: checkpoint.hash } : { seq: 0, hash: GENESIS_HASH }
}

async function sealBatch(tx: Tx, key: Buffer): Promise<number> {
  // Only committed rows are visible here, so chain order is the order rows became
  // visible (commit order), whatever order their ids were drawn in.
  const rows = await tx
    .select()
    .from(auditLog)
    .where(isNull(auditLog.seq))
    .orderBy(asc(auditLog.id))
    .limit(BATCH)
  if (rows.length === 0) return 0
  let head = await chainHead(tx)
  const sealed = rows.map((row) => {
    const seq = head.seq + 1
    const hash = rowHash(key, head.hash, { ...row, seq })
    const link = { id: String(row.id), seq: String(seq), prev: head.hash, hash }
    head = { seq, hash }
    return link
  })
  const array = (values: string[], type: string) => sql`${`{${values.join(',')}}`}::${sql.raw(type)}`
  await tx.execute(sql`SELECT audit_log_seal(
    ${array(
      sealed.map((s) => s.id),
      'bigint[]',
    )}, ${array(
      sealed.map((s) => s.seq),
      'bigint[]',
    )},
    ${array(
      sealed.map((s) => s.prev),
      'text[]',
    )}, ${array(
      sealed.map((s) => s.hash),
      'text[]',
    )})`)
  return rows.length
}

/**
 * Seals committed rows into the chain. Idempotent and safe in several processes: a
 * run that cannot take the chain lock does nothing (another process is sealing).
 */
export async function sealPending(db: Db, key: Buffer): Promise<number> {
  let total = 0
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const sealed = await inTransaction(db, async (tx) => ((await tryChainLock(tx)) ? sealBatch(tx, key) : 0))
    total += sealed
    if (sealed < BATCH) break
  }
  return total
}

/**
 * Retention: deletes sealed rows older than `retentionDays`, first writing a
 * checkpoint holding the hash of the last purged row, so verification of what
 * remains starts from a signed anchor rather than from genesis.
 */
export async function purgeExpired(db: Db, key: Buffer, retentionDays: number, log: Logger): Promise<number> {
  if (retentionDays <= 0) return 0
  return inTransaction(db, async (tx) => {
    if (!(await tryChainLock(tx))) return 0
    const [last] = await tx
      .select({ seq: auditLog.seq, hash: auditLog.hash })
      .from(auditLog)
      .where(
        // Only a prefix of the chain can go: stop before the first row still within retention.
        sql`${auditLog.seq} IS NOT NULL AND ${auditLog.occurredAt} < now() - make_interval(days => ${retentionDays})
          AND ${auditLog.seq} < coalesce((SELECT min(seq) FROM audit_log WHERE seq IS NOT NULL
            AND occurred_at >= now() - make_interval(days => ${retentionDays})), 9223372036854775807)`,
      )
      .orderBy(desc(auditLog.seq))
      .limit(1)
    if (!last?.seq || !last.hash) return 0
    const [count] = await rowsOf<{ n: string }>(
      tx.execute(sql`SELECT count(*)::text AS n FROM audit_log WHERE seq <= ${last.seq}`),
    )
    const checkpoint = { throughSeq: last.seq, anchorHash: last.hash, purgedRows: Number(count?.n ?? 0) }
    await tx.insert(auditCheckpoints).values({ ...checkpoint, hash: checkpointHash(key, checkpoint) })
    const [purged] = await rowsOf<{ n: string }>(
      tx.execute(sql`SELECT audit_log_purge(${last.seq})::text AS n`),
    )
    log.info({ throughSeq: last.seq, purged: purged?.n }, 'audit log purged behind a checkpoint')
    return Number(purged?.n ?? 0)
  })
}

/** Unsealed rows and the age of the oldest, for the alert gauge. */
export async function unsealedBacklog(db: Db): Promise<{ count: number; oldestAgeS: number }> {
  const [row] = await rowsOf<{ n: string; age: string | null }>(
    db.execute(sql`SELECT count(*)::text AS n, extract(epoch FROM now() - min(occurred_at))::text AS age
      FROM audit_log WHERE seq IS NULL`),
  )
  return { count: Number(row?.n ?? 0), oldestAgeS: Math.max(0, Number(row?.age ?? 0)) }
}
