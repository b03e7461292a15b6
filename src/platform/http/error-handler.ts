import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isDatabaseUnavailable } from '../db/errors.ts'
import { AppError, type ErrorCode, errorCatalogue } from './errors.ts'
import { problemBody } from './problem.ts'
import { routeTemplate } from './route-of.ts'
import { toFieldErrors } from './validation.ts'

const byFastifyCode: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_HANDLER_TIMEOUT: 'timeout',
}

const byStatus: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
}

/** Sends `error` as an RFC 9457 body, with the headers it carries (Retry-After, …). */
export function sendProblem(reply: FastifyReply, error: AppError, requestId: string) {
  for (const [name, value] of Object.entries(error.options.headers ?? {})) reply.header(name, value)
  return reply
    .code(error.status)
    .type('application/problem+json')
    .send(problemBody(error.code, error.message, requestId, error.options.errors))
}

/** Maps anything thrown to an RFC 9457 body; the one place that does it. */
function toAppError(error: FastifyError): AppError {
  if (error instanceof AppError) return error
  if (error.validation) {
    return new AppError('validation_failed', 'The request does not match the schema', {
      errors: toFieldErrors(error.validation, error.validationContext ?? 'request'),
    })
  }
  const mapped = byFastifyCode[error.code]
  if (mapped) return new AppError(mapped, errorCatalogue[mapped].title)
  if (error instanceof SyntaxError && error.statusCode === 400)
    return new AppError('malformed_json', 'The body is not valid JSON')
  if (isDatabaseUnavailable(error)) {
    return new AppError('service_unavailable', 'The database is unavailable; retry shortly', {
      cause: error,
      headers: { 'retry-after': '2' },
    })
  }
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) return new AppError(byStatus[status] ?? 'bad_request', error.message)
  if (status === 503) return new AppError('service_unavailable', 'The service is temporarily unavailable')
  return new AppError('internal_error', 'An unexpected error occurred', { cause: error })
}

/**
 * A 503 is the service saying it cannot serve right now (a deadline, shedding, the
 * database or the identity provider away): expected under trouble, counted by
 * metrics, so a warning with its reason, not an error with a stack per request.
 */
function logUnavailable(request: FastifyRequest, appError: AppError, error: FastifyError) {
  const cause = appError.options.cause ?? (error === appError ? undefined : error)
  const reason = cause instanceof Error ? cause.message : appError.message
  request.log.warn({ code: appError.code, reason }, 'request not served')
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error)
    if (appError.status === 500) {
      request.log.error({ err: error }, 'request failed')
      app.ctx.errors.report(error, {
        requestId: request.id,
        method: request.method,
        route: routeTemplate(request),
      })
    } else if (appError.status >= 500) logUnavailable(request, appError, error)
    else if (appError.code === 'bad_request') request.log.info({ err: error }, 'bad request')
    return sendProblem(reply, appError, request.id)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new AppError(
        'route_not_found',
        `No route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`,
      ),
      request.id,
    ),
  )
}
