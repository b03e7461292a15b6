/**
 * The closed catalogue of error codes. Every 4xx/5xx body carries one of these as
 * `code`; clients may rely on them, so a code is never renamed, only added.
 */
export const errorCatalogue = {
  validation_failed: { status: 400, title: 'Request validation failed' },
  malformed_json: { status: 400, title: 'Malformed JSON body' },
  invalid_text: { status: 400, title: 'Invalid text' },
  invalid_cursor: { status: 400, title: 'Invalid pagination cursor' },
  bad_request: { status: 400, title: 'Bad request' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  invalid_token: { status: 401, title: 'Invalid access token' },
  token_expired: { status: 401, title: 'Access token expired' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such route' },
  story_not_found: { status: 404, title: 'Story not found' },
  profile_not_found: { status: 404, title: 'Profile not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  not_acceptable: { status: 406, title: 'Not acceptable' },
  username_taken: { status: 409, title: 'Username already taken' },
  conflict: { status: 409, title: 'Conflict' },
  precondition_failed: { status: 412, title: 'Precondition failed' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused with another request' },
  precondition_required: { status: 428, title: 'Precondition required' },
  request_timeout: { status: 408, title: 'Request timeout' },
  uri_too_long: { status: 414, title: 'URI too long' },
  headers_too_large: { status: 431, title: 'Request header fields too large' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal server error' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  auth_unavailable: { status: 503, title: 'Identity provider unavailable' },
  timeout: { status: 503, title: 'Request timed out' },
} as const satisfies Record<string, { status: number; title: string }>

export type ErrorCode = keyof typeof errorCatalogue

export interface FieldError {
  field: string
  message: string
}

export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    readonly options: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail ?? errorCatalogue[code].title, { cause: options.cause })
    this.name = 'AppError'
    this.status = errorCatalogue[code].status
  }
}

/** Problem `type` URIs are URNs: stable identifiers, documented in docs/errors.md. */
export const PROBLEM_BASE_URL = 'urn:inkwell:problem:'
