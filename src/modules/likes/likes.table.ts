import { pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core'
import { timestampMs } from '../../platform/db/columns.ts'

export const storyLikes = pgTable(
  'story_likes',
  {
    storyId: uuid('story_id').notNull(),
    profileId: uuid('profile_id').notNull(),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.storyId, t.profileId] })],
)
