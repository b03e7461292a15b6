import { type Static, type TSchema, type TUnsafe, Type } from 'typebox'
import { Problem } from './problem.ts'

/** A single line of text: no control characters. */
export const SINGLE_LINE = '^[^\\u0000-\\u001F\\u007F]*$'

export const Uuid = Type.String({ format: 'uuid' })
export const IsoDate = Type.String({ format: 'date-time' })
const SCALARS = new Set(['string', 'integer', 'number', 'boolean'])

/**
 * `T | null`. A scalar is written as a type array (`["string", "null"]`) rather than an
 * anyOf: fast-json-stringify serializes an anyOf by running ajv on the value to pick the
 * branch (a date-time format check on every response), and a type array by `typeof`.
 */
export const Nullable = <T extends TSchema>(schema: T): TUnsafe<Static<T> | null> => {
  const type = (schema as { type?: unknown }).type
  if (typeof type === 'string' && SCALARS.has(type))
    return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] })
  return Type.Union([schema, Type.Null()]) as unknown as TUnsafe<Static<T> | null>
}

const ProblemResponse = { ...Problem, $id: undefined, description: 'RFC 9457 problem details' }

/** Adds the problem+json error responses every route may give. */
export function withErrors<R extends Record<number, TSchema>>(responses: R) {
  return { ...responses, '4xx': ProblemResponse, '5xx': ProblemResponse }
}

/** Keyset pagination query parameters shared by every list. */
export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
}

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) })
