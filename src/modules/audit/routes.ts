import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { withErrors } from '../../platform/http/schema-helpers.ts'
import { AuditLogPage, AuditLogQuery } from './schemas.ts'
import { readAuditLog } from './service.ts'

/** Mounted at /v1/admin. */
export const auditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/audit-log',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags: ['admin'],
        summary: 'The audit log, newest first, filtered (admins only; the read is itself audited)',
        security: [{ bearerAuth: [] }],
        querystring: AuditLogQuery,
        response: withErrors({ 200: AuditLogPage }),
      },
    },
    async (request) => readAuditLog(request.deps, request.principal!, request.query),
  )
}
