import { timestamp } from 'drizzle-orm/pg-core'

/** timestamptz(3): millisecond precision, as JavaScript dates and keyset cursors carry. */
export const timestampMs = (name: string) =>
  timestamp(name, { withTimezone: true, precision: 3, mode: 'date' })
