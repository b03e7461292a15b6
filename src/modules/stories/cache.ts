import type { LoadOptions } from '../../platform/cache/tiered.ts'
import type { StoryRow } from './queries.ts'

/** Rows come back from Redis as JSON: timestamps (`…At`) become Dates again. */
function reviveRow(json: unknown): StoryRow | undefined {
  if (json === null || typeof json !== 'object') return undefined
  const row: Record<string, unknown> = { ...json }
  for (const [key, value] of Object.entries(row)) {
    if (key.endsWith('At') && typeof value === 'string') row[key] = new Date(value)
  }
  return row as StoryRow
}

/** Only published stories enter the shared cache: a draft is always read from the database. */
export const storyCaching: LoadOptions<StoryRow | undefined> = {
  revive: reviveRow,
  cacheIf: (row) => row?.status === 'published',
}
