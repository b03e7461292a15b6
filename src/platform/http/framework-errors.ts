import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import type { Logger } from 'pino'
import { sendProblem } from './error-handler.ts'
import { AppError, type ErrorCode, errorCatalogue } from './errors.ts'
import { problemBody } from './problem.ts'
import { newRequestId } from './request-id.ts'

/** Node's clientError codes, and how each is answered; anything else is a 400. */
const CLIENT_ERRORS: Record<string, [ErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: ['headers_too_large', 'The request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: ['request_timeout', 'The request did not arrive in time'],
}
const MALFORMED: [ErrorCode, string] = [
  'bad_request',
  'The request is not valid HTTP (request line, headers or Content-Length)',
]

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
    // Called instead of routing, so neither onRequest nor onResponse hooks run: the
    // headers, the access line and the count are all done here.
    frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
      const appError =
        error.code === 'FST_ERR_BAD_URL'
          ? new AppError('invalid_text', 'The URL has a malformed percent-escape or is not UTF-8')
          : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? new AppError('uri_too_long', 'A path segment is too long')
            : new AppError('bad_request', 'The request could not be routed')
      request.log.info(
        {
          method: request.method,
          path: request.url.split('?')[0],
          status: appError.status,
          code: appError.code,
        },
        'request refused before routing',
      )
      request.server.countRefused?.(appError.status, request.method)
      sendProblem(reply.headers(securityHeaders).header('x-request-id', request.id), appError, request.id)
    },
    // Bound to the Fastify instance by Fastify. There is no request or reply yet: the
    // response is written to the socket, which is then closed.
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
      const [code, detail] = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED
      const { status } = errorCatalogue[code]
      const requestId = newRequestId()
      const body = JSON.stringify(problemBody(code, detail, requestId))
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
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n\r\n${body}`)
    },
  }
}
