import { isUtf8 } from 'node:buffer'
import type { FastifyInstance } from 'fastify'
import { AppError } from './errors.ts'

/**
 * JSON is the only body type, and it must be UTF-8 as sent: Fastify's own parser
 * decodes with replacement, so invalid bytes would be stored as U+FFFD instead of
 * refused. Any other body type is a 415 rather than a string the schema then refuses,
 * and so is a compressed body (Content-Encoding), which would otherwise be parsed as
 * JSON and fail as malformed.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  // Fastify's default parser, kept for its prototype-poisoning checks and its errors.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const encoding = request.headers['content-encoding']
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      done(
        new AppError(
          'unsupported_media_type',
          'Compressed request bodies (Content-Encoding) are not accepted',
        ),
      )
      return
    }
    const bytes = body as Buffer
    if (!isUtf8(bytes)) {
      done(new AppError('invalid_text', 'The body is not valid UTF-8'))
      return
    }
    parseJson(request, bytes.toString('utf8'), done)
  })
}
