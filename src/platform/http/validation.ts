import { Ajv, type Options } from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError, type FieldError } from './errors.ts'

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

/** Checks every string of a parsed input and NFC-normalizes it in place. */
function normalizeText(value: unknown, path: string, errors: FieldError[]): unknown {
  if (typeof value === 'string') {
    if (INVALID_TEXT.test(value)) {
      errors.push({ field: path, message: 'contains a NUL character or invalid Unicode' })
      return value
    }
    return value.normalize('NFC')
  }
  if (Array.isArray(value)) return value.map((v, i) => normalizeText(v, `${path}.${i}`, errors))
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) {
      if (INVALID_TEXT.test(key)) errors.push({ field: path, message: 'has a field name with invalid text' })
      else record[key] = normalizeText(record[key], `${path}.${key}`, errors)
    }
  }
  return value
}

export async function normalizeRequestText(request: FastifyRequest): Promise<void> {
  const errors: FieldError[] = []
  request.params = normalizeText(request.params, 'params', errors) as typeof request.params
  request.query = normalizeText(request.query, 'querystring', errors) as typeof request.query
  request.body = normalizeText(request.body, 'body', errors) as typeof request.body
  if (errors.length > 0)
    throw new AppError('invalid_text', 'Text must be valid Unicode without NUL', { errors })
}
