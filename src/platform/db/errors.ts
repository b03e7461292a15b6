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
