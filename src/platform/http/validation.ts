import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError, type FieldError } from './errors.ts'
import { routeOf } from './route-of.ts'

const common: Options = { allErrors: true, useDefaults: true, strict: false, removeAdditional: false }

/**
 * Bodies are validated as sent: no type coercion and no silent stripping of unknown
 * fields (Fastify's default strips them), so a client learns at once that a field
 * it sent is not accepted. Query strings and params arrive as text and are coerced.
 */
function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ ...common, ...options })
  addFormats.default(ajv)
  return ajv
}
const bodyAjv = makeAjv({ coerceTypes: false })
const textAjv = makeAjv({ coerceTypes: 'array' })

export function installValidators(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object),
  )
}

export function toFieldErrors(
  errors: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>,
  context: string,
): FieldError[] {
  return errors.map((e) => {
    const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.')
    const extra = (e.params?.additionalProperty ?? e.params?.missingProperty) as string | undefined
    const field = [context, path, extra].filter(Boolean).join('.')
    const message =
      e.params?.additionalProperty !== undefined ? 'is not an accepted field' : (e.message ?? 'is invalid')
    return { field, message }
  })
}

// Unpaired UTF-16 surrogates cannot be stored as text (PostgreSQL rejects them), nor NUL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching NUL is the point
const INVALID_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Deeper than any schema of ours goes; bounds the walk below (a 1 MB body can nest 500,000 deep). */
const MAX_DEPTH = 32

class TooDeep extends Error {}

/** Checks every string of a parsed input and NFC-normalizes it in place. */
// Text that is ASCII without NUL is already NFC and cannot hold a surrogate: most ids,
// names and query values. It skips the lookbehind test and ICU's normalize().
// biome-ignore lint/suspicious/noControlCharactersInRegex: excluding NUL is the point
const ASCII_WITHOUT_NUL = /^[\u0001-\u007f]*$/

/** A string in NFC, or the same string with an error recorded (its field path built only then). */
function normalizeString(
  value: string,
  path: string,
  key: string | number | undefined,
  errors: FieldError[],
): string {
  if (ASCII_WITHOUT_NUL.test(value)) return value
  if (INVALID_TEXT.test(value)) {
    errors.push({
      field: key === undefined ? path : `${path}.${key}`,
      message: 'contains a NUL character or invalid Unicode',
    })
    return value
  }
  return value.normalize('NFC')
}

function normalizeText(value: unknown, path: string, errors: FieldError[], depth = 0): unknown {
  if (typeof value === 'string') return normalizeString(value, path, undefined, errors)
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) throw new TooDeep()
  const member = (child: unknown, key: string | number) =>
    typeof child === 'string'
      ? normalizeString(child, path, key, errors)
      : normalizeText(child, `${path}.${key}`, errors, depth + 1)
  if (Array.isArray(value)) return value.map(member)
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!ASCII_WITHOUT_NUL.test(key) && INVALID_TEXT.test(key))
      errors.push({ field: path, message: 'has a field name with invalid text' })
    else {
      const child = record[key]
      const normalized = member(child, key)
      if (normalized !== child) record[key] = normalized
    }
  }
  return value
}

function checkUrlEncoding(url: string): void {
  if (!url.includes('%')) return
  try {
    decodeURIComponent(url)
  } catch {
    throw new AppError('invalid_text', 'The URL has a malformed percent-escape or is not UTF-8')
  }
}

const isEmptyBody = (body: unknown) =>
  body === undefined ||
  body === null ||
  (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)

/**
 * A route without a body schema takes no body: fields sent to it (`{"status": "draft"}`
 * to publish) are refused like unknown fields anywhere else, never silently ignored.
 * An empty object or `null` is accepted, as some clients always send one.
 */
function refuseUnexpectedBody(request: FastifyRequest): void {
  if (request.is404 || routeOf(request).schema?.body !== undefined || isEmptyBody(request.body)) return
  const fields =
    typeof request.body === 'object' && !Array.isArray(request.body)
      ? Object.keys(request.body as object).map((name) => ({
          field: `body.${name}`,
          message: 'is not an accepted field',
        }))
      : [{ field: 'body', message: 'is not accepted' }]
  throw new AppError('validation_failed', 'This route takes no request body', { errors: fields })
}

function checkRequestText(request: FastifyRequest): void {
  checkUrlEncoding(request.url)
  refuseUnexpectedBody(request)
  const errors: FieldError[] = []
  try {
    request.params = normalizeText(request.params, 'params', errors) as typeof request.params
    request.query = normalizeText(request.query, 'querystring', errors) as typeof request.query
    request.body = normalizeText(request.body, 'body', errors) as typeof request.body
  } catch (err) {
    if (err instanceof TooDeep)
      throw new AppError('bad_request', `The request nests deeper than ${MAX_DEPTH} levels`)
    throw err
  }
  if (errors.length > 0)
    throw new AppError('invalid_text', 'Text must be valid Unicode without NUL', { errors })
}

/** The preValidation hook; callback style, as it runs on every request and never waits. */
export function normalizeRequestText(
  request: FastifyRequest,
  _reply: unknown,
  done: (err?: Error) => void,
): void {
  let failure: Error | undefined
  try {
    checkRequestText(request)
  } catch (err) {
    failure = err as Error
  }
  done(failure)
}
