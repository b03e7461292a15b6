import { bigint, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { timestampMs } from '../../platform/db/columns.ts'

export type StoryStatus = 'draft' | 'published' | 'removed'

export const stories = pgTable('stories', {
  id: uuid('id').primaryKey(),
  authorId: uuid('author_id').notNull(),
  title: text('title').notNull(),
  body: text('body').notNull(),
  tags: text('tags').array().notNull().default([]),
  status: text('status').$type<StoryStatus>().notNull().default('draft'),
  likeCount: integer('like_count').notNull().default(0),
  viewCount: bigint('view_count', { mode: 'number' }).notNull().default(0),
  version: integer('version').notNull().default(1),
  createdAt: timestampMs('created_at').notNull().defaultNow(),
  updatedAt: timestampMs('updated_at').notNull().defaultNow(),
  publishedAt: timestampMs('published_at'),
  deletedAt: timestampMs('deleted_at'),
  // Derived by the stories.process job after publish; null until then.
  wordCount: integer('word_count'),
  readingTimeMinutes: integer('reading_time_minutes'),
  excerpt: text('excerpt'),
})
