import { AppError } from '../http/errors.ts'

const REALM = 'Bearer realm="inkwell"'

export type RefusalCode = 'invalid_token' | 'token_expired'

/**
 * A refused token (RFC 6750). The detail is the same for every failed check: the
 * code is all a client learns, so a forger cannot probe which check tripped.
 */
export function refused(code: RefusalCode, reason?: string): AppError {
  const description = code === 'token_expired' ? 'The access token expired' : 'The access token is invalid'
  return new AppError(code, description, {
    cause: reason,
    headers: { 'www-authenticate': `${REALM}, error="invalid_token", error_description="${description}"` },
  })
}

export function malformedAuthorization(): AppError {
  return new AppError('invalid_token', 'The Authorization header must be "Bearer <token>"', {
    headers: { 'www-authenticate': `${REALM}, error="invalid_request"` },
  })
}

export function unauthenticated(): AppError {
  return new AppError('unauthenticated', 'This endpoint needs a Bearer access token', {
    headers: { 'www-authenticate': REALM },
  })
}

/** The provider's keys cannot be had: a 503 clients retry, rather than a 401 that signs users out. */
export function authUnavailable(retryAfterS: number, reason?: string): AppError {
  return new AppError('auth_unavailable', 'The identity provider cannot be reached; retry shortly', {
    cause: reason,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterS))) },
  })
}
