import { integer, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { timestampMs } from '../../platform/db/columns.ts'

export const profiles = pgTable('profiles', {
  id: uuid('id').primaryKey(),
  subject: text('subject').notNull(),
  username: text('username').notNull(),
  displayName: text('display_name'),
  bio: text('bio'),
  avatarUrl: text('avatar_url'),
  email: text('email'),
  publishedStoryCount: integer('published_story_count').notNull().default(0),
  createdAt: timestampMs('created_at').notNull().defaultNow(),
  updatedAt: timestampMs('updated_at').notNull().defaultNow(),
})
