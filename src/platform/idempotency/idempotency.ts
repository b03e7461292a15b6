import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Db, Tx } from '../db/database.ts'
import { rowsOf } from '../db/rows.ts'
import { inTransaction } from '../db/transaction.ts'
import { AppError } from '../http/errors.ts'
import type { JobDefinition } from '../jobs/runner.ts'

/** How long a key's first response is kept and replayed. */
export const IDEMPOTENCY_TTL_HOURS = 24
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

export interface StoredResponse {
  status: number
  body: unknown
  location?: string | undefined
}

export interface IdempotentResult extends StoredResponse {
  replayed: boolean
}

export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  if (typeof header !== 'string' || !KEY_PATTERN.test(header)) {
    throw new AppError('validation_failed', 'Idempotency-Key must be 1-255 printable ASCII characters', {
      errors: [{ field: 'headers.idempotency-key', message: 'must be 1-255 printable ASCII characters' }],
    })
  }
  return header
}

/** Canonical JSON (keys sorted) so that the same body always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonical(body)}`)
    .digest('hex')
}

interface KeyRow {
  request_hash: string
  status_code: number | null
  response_body: unknown
  response_location: string | null
  expired: boolean
}

/**
 * Runs `operation` at most once per (subject, key). The key row is inserted in the
 * operation's own transaction: a concurrent retry with the same key blocks on that
 * row until the first commits, then replays its response; if the first rolls back,
 * the key was never taken and the retry runs. Another body under the same key: 422.
 */
export async function runIdempotent(
  db: Db,
  scope: { subject: string; key: string; hash: string },
  operation: (tx: Tx) => Promise<StoredResponse>,
): Promise<IdempotentResult> {
  return inTransaction(db, async (tx) => {
    await tx.execute(sql`DELETE FROM idempotency_keys
      WHERE subject = ${scope.subject} AND key = ${scope.key} AND expires_at <= now()`)
    const inserted = await rowsOf(
      tx.execute(sql`INSERT INTO idempotency_keys (subject, key, request_hash, expires_at)
        VALUES (${scope.subject}, ${scope.key}, ${scope.hash}, now() + make_interval(hours => ${IDEMPOTENCY_TTL_HOURS}))
        ON CONFLICT (subject, key) DO NOTHING RETURNING key`),
    )
    if (inserted.length === 0) return replay(tx, scope)
    const response = await operation(tx)
    await tx.execute(sql`UPDATE idempotency_keys
      SET status_code = ${response.status}, response_body = ${JSON.stringify(response.body)}::jsonb,
          response_location = ${response.location ?? null}
      WHERE subject = ${scope.subject} AND key = ${scope.key}`)
    return { ...response, replayed: false }
  })
}

async function replay(
  tx: Tx,
  scope: { subject: string; key: string; hash: string },
): Promise<IdempotentResult> {
  const [row] = await rowsOf<KeyRow>(
    tx.execute(sql`SELECT request_hash, status_code, response_body, response_location
      FROM idempotency_keys WHERE subject = ${scope.subject} AND key = ${scope.key}`),
  )
  if (!row || row.status_code === null) {
    throw new AppError(
      'conflict',
      'A request with this Idempotency-Key is still being processed; retry shortly',
    )
  }
  if (row.request_hash !== scope.hash) {
    throw new AppError('idempotency_key_reused', 'This Idempotency-Key was used with a different request')
  }
  return {
    status: row.status_code,
    body: row.response_body,
    location: row.response_location ?? undefined,
    replayed: true,
  }
}

export function purgeExpiredKeysJob(db: Db): JobDefinition {
  return {
    name: 'idempotency.purge-expired',
    everyMs: 3_600_000,
    handler: async () => {
      await db.execute(sql`DELETE FROM idempotency_keys WHERE expires_at <= now()`)
    },
  }
}
