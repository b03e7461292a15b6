import { eq } from 'drizzle-orm'
import { Type } from 'typebox'
import { invalidateStory } from '../../platform/cache/keys.ts'
import type { AppContext } from '../../platform/context.ts'
import type { JobDefinition } from '../../platform/jobs/index.ts'
import { EXCERPT_LENGTH } from './schemas.ts'
import { stories } from './stories.table.ts'

export const PROCESS_STORY_JOB = 'stories.process'
export const ProcessStoryPayload = Type.Object(
  { storyId: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }) },
  { additionalProperties: false },
)
const WORDS_PER_MINUTE = 200

export interface DerivedFields {
  wordCount: number
  readingTimeMinutes: number
  excerpt: string
}

/** Pure: the same body always gives the same fields, which makes the job idempotent. */
export function deriveStoryFields(body: string): DerivedFields {
  const text = body.replace(/\s+/g, ' ').trim()
  const wordCount = text === '' ? 0 : text.split(' ').length
  let excerpt = text
  if (text.length > EXCERPT_LENGTH) {
    const cut = text.slice(0, EXCERPT_LENGTH - 1)
    const space = cut.lastIndexOf(' ')
    // Cut at a word boundary unless the first word alone is longer than the excerpt.
    excerpt = `${(space > 0 ? cut.slice(0, space) : cut).trimEnd()}…`
  }
  return { wordCount, readingTimeMinutes: Math.max(1, Math.ceil(wordCount / WORDS_PER_MINUTE)), excerpt }
}

/** Runs after each publish (through the outbox): derives the fields the body determines. */
export function processStoryJob({
  db,
  cache,
}: Pick<AppContext, 'db' | 'cache'>): JobDefinition<{ storyId: string }> {
  return {
    name: PROCESS_STORY_JOB,
    payload: ProcessStoryPayload,
    attempts: 5,
    backoffMs: 1000,
    timeoutMs: 30_000,
    async handler({ storyId }) {
      const [row] = await db
        .select({ body: stories.body })
        .from(stories)
        .where(eq(stories.id, storyId))
        .limit(1)
      // Deleted (hard) since: nothing left to do.
      if (!row) return
      await db.update(stories).set(deriveStoryFields(row.body)).where(eq(stories.id, storyId))
      // The excerpt shows in list pages too.
      await invalidateStory(cache, storyId)
    },
  }
}
