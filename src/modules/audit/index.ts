export type { AggregatedEvent, Aggregator } from './aggregate.ts'
export { auditKey, GENESIS_HASH } from './chain.ts'
export { type AuditApi, auditPlugin, UNSEALED_ALERT_AGE_S } from './plugin.ts'
export { canRewriteAuditLog } from './privileges.ts'
export {
  type AuditActor,
  type AuditEvent,
  actorOf,
  inAuditedTransaction,
  insertAuditRow,
  logAuditRow,
  profileCreatedInsert,
  type RecordAudit,
  recordAudit,
  rowOf as auditRowOf,
  SYSTEM,
} from './record.ts'
export { auditRoutes } from './routes.ts'
export { purgeExpired, sealPending, unsealedBacklog } from './seal.ts'
export { type VerifyResult, verifyChain } from './verify.ts'
