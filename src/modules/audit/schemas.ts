import { type Static, Type } from 'typebox'
import { IsoDate, Nullable, Page, PageQuery } from '../../platform/http/schema-helpers.ts'

const Word = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001F\\u007F]*$' })

export const AuditLogQuery = Type.Object(
  {
    ...PageQuery,
    actor: Type.Optional({ ...Word, description: 'Profile id, subject, or `system` / `anonymous`' }),
    action: Type.Optional(
      Type.String({
        pattern: '^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*(\\.\\*)?$',
        maxLength: 100,
        description: 'Exact action, or a prefix ending in `.*` (`story.*`)',
      }),
    ),
    targetType: Type.Optional(Word),
    targetId: Type.Optional(Word),
    from: Type.Optional({ ...IsoDate, description: 'Inclusive lower bound of `occurredAt`' }),
    to: Type.Optional({ ...IsoDate, description: 'Exclusive upper bound of `occurredAt`' }),
  },
  { additionalProperties: false },
)
export type AuditLogQuery = Static<typeof AuditLogQuery>

export const AuditEntry = Type.Object({
  id: Type.String(),
  occurredAt: IsoDate,
  actor: Type.Object({
    type: Type.Union([Type.Literal('user'), Type.Literal('system'), Type.Literal('anonymous')]),
    profileId: Nullable(Type.String()),
    subject: Nullable(Type.String()),
  }),
  action: Type.String(),
  target: Nullable(Type.Object({ type: Type.String(), id: Nullable(Type.String()) })),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('denied'), Type.Literal('failed')]),
  requestId: Nullable(Type.String()),
  clientIp: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
  seq: Nullable(Type.String({ description: 'Position in the hash chain; null until sealed' })),
  prevHash: Nullable(Type.String()),
  hash: Nullable(Type.String()),
  sealedAt: Nullable(IsoDate),
})
export type AuditEntry = Static<typeof AuditEntry>

export const AuditLogPage = Page(AuditEntry)
