import { Type } from 'typebox'
import { type ErrorCode, errorCatalogue, type FieldError, PROBLEM_BASE_URL } from './errors.ts'

/** RFC 9457 problem details, as every error response is shaped. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem' },
)

export function problemBody(code: ErrorCode, detail: string, requestId: string, errors?: FieldError[]) {
  const { status, title } = errorCatalogue[code]
  return {
    type: `${PROBLEM_BASE_URL}${code}`,
    title,
    status,
    detail,
    code,
    requestId,
    ...(errors && errors.length > 0 ? { errors } : {}),
  }
}
