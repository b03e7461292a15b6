import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import type { Logger } from 'pino'
import { AppError, type ErrorCode } from './errors.ts'
import { problemBody } from './problem.ts'
import { requestIdFrom } from './request-id.ts'

/**
 * Errors found before a request reaches the routes, answered like every other error
 * (problem+json, security headers, X-Request-Id): a URL find-my-way cannot decode
 * (Fastify's frameworkErrors), and requests Node's HTTP parser refuses (clientError:
 * malformed request line or headers, a Content-Length that does not match, headers over
 * the limit, a request that took too long to arrive). Fastify's defaults answer those
 * with its own JSON shape and no headers.
 */
export function frameworkErrorHandlers(
  securityHeaders: Readonly<Record<string, string>>,
  log: Logger,
): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'> {
  return {
    // Called instead of routing, so no onRequest hook has run: the headers are set here.
    frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
      const appError =
        error.code === 'FST_ERR_BAD_URL'
          ? new AppError('invalid_text', 'The URL has a malformed percent-escape or is not UTF-8')
          : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? new AppError('uri_too_long', 'A path segment is too long')
            : new AppError('bad_request', 'The request could not be routed')
      // Neither do onResponse hooks: the access line and the count are written here too.
      request.log.info(
        {
          reqId: request.id,
          method: request.method,
          path: request.url.split('?')[0],
          status: appError.status,
          code: appError.code,
        },
        'request refused before routing',
      )
      request.server.countRefused?.(appError.status, request.method)
      reply
        .headers(securityHeaders)
        .header('x-request-id', request.id)
        .code(appError.status)
        .type('application/problem+json')
        .send(problemBody(appError.code, appError.message, request.id))
    },
    // Bound to the Fastify instance by Fastify.
    clientErrorHandler(
      this: { countRefused?: (status: number) => void },
      error: Error & { code?: string },
      socket: Socket,
    ) {
      // The socket may already be gone (a reset), or a response half written.
      if (
        socket.destroyed ||
        !socket.writable ||
        (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
      ) {
        socket.destroy()
        return
      }
      const code = clientErrorCode(error.code)
      const requestId = requestIdFrom({ headers: {} } as IncomingMessage)
      const body = JSON.stringify(problemBody(code, clientErrorDetail(code), requestId))
      const status = new AppError(code).status
      const headers = {
        ...securityHeaders,
        'content-type': 'application/problem+json',
        'content-length': String(Buffer.byteLength(body)),
        'x-request-id': requestId,
        connection: 'close',
      }
      const head = Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}`)
        .join('\r\n')
      log.info(
        { reqId: requestId, status, code, reason: error.code ?? error.message },
        'request refused by the HTTP parser',
      )
      this.countRefused?.(status)
      socket.end(`HTTP/1.1 ${status} ${statusText(status)}\r\n${head}\r\n\r\n${body}`)
    },
  }
}

function clientErrorCode(nodeCode: string | undefined): ErrorCode {
  if (nodeCode === 'HPE_HEADER_OVERFLOW') return 'headers_too_large'
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout'
  return 'bad_request'
}

function clientErrorDetail(code: ErrorCode): string {
  if (code === 'headers_too_large') return 'The request headers are too large'
  if (code === 'request_timeout') return 'The request did not arrive in time'
  return 'The request is not valid HTTP (request line, headers or Content-Length)'
}

function statusText(status: number): string {
  return (
    { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[status] ?? 'Error'
  )
}
