/** PostgreSQL error fields, whether the driver error arrives bare or wrapped by Drizzle. */
interface PgErrorFields {
  code?: string
  constraint?: string
}

function pgFields(err: unknown): PgErrorFields {
  let current: unknown = err
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const fields = current as PgErrorFields & { cause?: unknown }
    if (typeof fields.code === 'string' && /^[0-9A-Z]{5}$/.test(fields.code)) return fields
    current = fields.cause
  }
  return {}
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const fields = pgFields(err)
  return fields.code === '23505' && (constraint === undefined || fields.constraint === constraint)
}

export function sqlState(err: unknown): string | undefined {
  return pgFields(err).code
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
])

/**
 * The database cannot be reached or is refusing work right now (down, restarting,
 * failing over, pool exhausted, or refusing a new connection's password during a
 * rotation, until the secrets cache has the new one: 28P01): the request should be
 * retried, not reported as a bug.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  let current: unknown = err
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const { code, message, cause } = current as { code?: string; message?: string; cause?: unknown }
    if (code && (UNAVAILABLE_CODES.has(code) || /^(08|57P0[1-3]|53300|28P01)/.test(code))) return true
    if (
      message &&
      /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|Cannot use a pool after calling end/.test(
        message,
      )
    )
      return true
    current = cause
  }
  return false
}
