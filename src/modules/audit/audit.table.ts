import { bigint, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { timestampMs } from '../../platform/db/columns.ts'

/** Mirrors migrations/0004_audit_log.sql; bigints read as numbers: exact up to 2^53, far past any audit volume. */
export const auditLog = pgTable('audit_log', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  occurredAt: timestampMs('occurred_at').notNull().defaultNow(),
  actorType: text('actor_type').notNull(),
  actorProfileId: uuid('actor_profile_id'),
  actorSubject: text('actor_subject'),
  action: text('action').notNull(),
  targetType: text('target_type'),
  targetId: text('target_id'),
  outcome: text('outcome').notNull(),
  requestId: text('request_id'),
  clientIp: text('client_ip'),
  userAgent: text('user_agent'),
  details: jsonb('details').notNull().default({}),
  seq: bigint('seq', { mode: 'number' }),
  prevHash: text('prev_hash'),
  hash: text('hash'),
  sealedAt: timestampMs('sealed_at'),
})

export const auditCheckpoints = pgTable('audit_checkpoints', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  createdAt: timestampMs('created_at').notNull().defaultNow(),
  throughSeq: bigint('through_seq', { mode: 'number' }).notNull(),
  anchorHash: text('anchor_hash').notNull(),
  purgedRows: bigint('purged_rows', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
})

export type AuditRow = typeof auditLog.$inferSelect
