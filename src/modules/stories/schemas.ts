import { type Static, Type } from 'typebox'
import { IsoDate, Nullable, PageQuery, Uuid } from '../../platform/http/schema-helpers.ts'
import { AuthorSummary } from '../profiles/index.ts'

/** One line, no control characters, at least one visible character. */
const TITLE_PATTERN = '^[^\\u0000-\\u001F\\u007F]*[^\\s\\u0000-\\u001F\\u007F][^\\u0000-\\u001F\\u007F]*$'
export const TAG_PATTERN = '^[a-z0-9-]{1,30}$'

const Title = Type.String({ minLength: 1, maxLength: 200, pattern: TITLE_PATTERN })
const Body = Type.String({ minLength: 1, maxLength: 100_000, pattern: '\\S' })
const Tags = Type.Array(Type.String({ pattern: TAG_PATTERN }), { maxItems: 10, uniqueItems: true })

export const CreateStory = Type.Object(
  { title: Title, body: Body, tags: Type.Optional(Tags) },
  { additionalProperties: false },
)
export type CreateStory = Static<typeof CreateStory>

export const UpdateStory = Type.Object(
  { title: Type.Optional(Title), body: Type.Optional(Body), tags: Type.Optional(Tags) },
  { additionalProperties: false, minProperties: 1 },
)
export type UpdateStory = Static<typeof UpdateStory>

export const StoryStatus = Type.Union([
  Type.Literal('draft'),
  Type.Literal('published'),
  Type.Literal('removed'),
])

export const Story = Type.Object({
  id: Uuid,
  title: Type.String(),
  body: Type.String(),
  tags: Type.Array(Type.String()),
  status: StoryStatus,
  author: AuthorSummary,
  likeCount: Type.Integer(),
  viewCount: Type.Integer(),
  version: Type.Integer(),
  createdAt: IsoDate,
  updatedAt: IsoDate,
  publishedAt: Nullable(IsoDate),
  wordCount: Nullable(Type.Integer({ description: 'Computed shortly after publishing; null until then' })),
  readingTimeMinutes: Nullable(Type.Integer({ description: 'At 200 words a minute; null until computed' })),
  excerpt: Nullable(Type.String({ description: 'Up to 280 characters, cut at a word; null until computed' })),
})
export type Story = Static<typeof Story>

export const EXCERPT_LENGTH = 280

export const StoryListItem = Type.Object({
  id: Uuid,
  title: Type.String(),
  excerpt: Type.String({ description: `The first ${EXCERPT_LENGTH} characters of the body` }),
  tags: Type.Array(Type.String()),
  author: AuthorSummary,
  likeCount: Type.Integer(),
  viewCount: Type.Integer(),
  publishedAt: IsoDate,
})
export type StoryListItem = Static<typeof StoryListItem>

export const StoryIdParams = Type.Object({ id: Uuid }, { additionalProperties: false })

export const ListStoriesQuery = Type.Object(
  {
    ...PageQuery,
    author: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Author username' })),
    tag: Type.Optional(Type.String({ pattern: TAG_PATTERN })),
  },
  { additionalProperties: false },
)
export type ListStoriesQuery = Static<typeof ListStoriesQuery>

export const AuthorStoriesQuery = Type.Object(
  { ...PageQuery, tag: Type.Optional(Type.String({ pattern: TAG_PATTERN })) },
  { additionalProperties: false },
)

export const AuthorStoriesParams = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
)
