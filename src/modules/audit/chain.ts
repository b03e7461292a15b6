import { createHmac, hkdfSync } from 'node:crypto'
import type { Config } from '../../config/schema.ts'

/** The `prev_hash` of the first row ever sealed. */
export const GENESIS_HASH = '0'.repeat(64)

/** The chain key: AUDIT_HMAC_KEY, else derived from SECRET_KEY so the two never coincide. */
export function auditKey(config: Pick<Config, 'AUDIT_HMAC_KEY' | 'SECRET_KEY'>): Buffer {
  if (config.AUDIT_HMAC_KEY) return Buffer.from(config.AUDIT_HMAC_KEY, 'utf8')
  if (!config.SECRET_KEY) throw new Error('AUDIT_HMAC_KEY or SECRET_KEY must be set')
  return Buffer.from(hkdfSync('sha256', config.SECRET_KEY, 'inkwell', 'audit-log-hmac-v1', 32))
}

/** Every column a row's hash covers, as read back from the database. */
export interface ChainedContent {
  id: number
  seq: number
  occurredAt: Date
  actorType: string
  actorProfileId: string | null
  actorSubject: string | null
  action: string
  targetType: string | null
  targetId: string | null
  outcome: string
  requestId: string | null
  clientIp: string | null
  userAgent: string | null
  details: unknown
}

/** JSON with object keys sorted, so jsonb's own key order never changes a hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** hash = HMAC-SHA256(key, prev_hash "\n" canonical content), hex. */
export function rowHash(key: Buffer, prevHash: string, row: ChainedContent): string {
  const content = canonicalJson([
    String(row.id),
    String(row.seq),
    row.occurredAt.toISOString(),
    row.actorType,
    row.actorProfileId,
    row.actorSubject,
    row.action,
    row.targetType,
    row.targetId,
    row.outcome,
    row.requestId,
    row.clientIp,
    row.userAgent,
    row.details,
  ])
  return createHmac('sha256', key).update(`${prevHash}\n${content}`).digest('hex')
}

export interface CheckpointContent {
  throughSeq: number
  anchorHash: string
  purgedRows: number
}

/** A checkpoint's own HMAC: a forged anchor cannot hide a purge that never happened. */
export function checkpointHash(key: Buffer, checkpoint: CheckpointContent): string {
  const content = canonicalJson([
    'checkpoint',
    String(checkpoint.throughSeq),
    checkpoint.anchorHash,
    String(checkpoint.purgedRows),
  ])
  return createHmac('sha256', key).update(content).digest('hex')
}
