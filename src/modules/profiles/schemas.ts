import { type Static, Type } from 'typebox'
import { IsoDate, Nullable, SINGLE_LINE, Uuid } from '../../platform/http/schema-helpers.ts'

export const USERNAME_PATTERN = '^[a-z0-9_]{3,30}$'

/** Names that would be confusing or look official; refused as usernames. */
export const RESERVED_USERNAMES = new Set([
  'admin',
  'administrator',
  'api',
  'me',
  'root',
  'system',
  'support',
  'help',
  'inkwell',
  'moderator',
  'mod',
  'staff',
  'security',
  'abuse',
  'postmaster',
  'webmaster',
  'null',
  'undefined',
  'anonymous',
  'settings',
  'login',
  'logout',
  'signup',
  'register',
  'www',
  'docs',
  'metrics',
  'healthz',
  'readyz',
  'trending',
  'stories',
  'profiles',
  'official',
  'owner',
])

export const PublicProfile = Type.Object({
  id: Uuid,
  username: Type.String(),
  displayName: Nullable(Type.String()),
  bio: Nullable(Type.String()),
  avatarUrl: Nullable(Type.String()),
  publishedStoryCount: Type.Integer(),
  createdAt: IsoDate,
})
export type PublicProfile = Static<typeof PublicProfile>

export const MyProfile = Type.Object({
  ...PublicProfile.properties,
  email: Nullable(Type.String()),
  roles: Type.Array(Type.String()),
  updatedAt: IsoDate,
})
export type MyProfile = Static<typeof MyProfile>

export const UpdateMe = Type.Object(
  {
    username: Type.Optional(Type.String({ pattern: USERNAME_PATTERN })),
    displayName: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100, pattern: SINGLE_LINE }))),
    bio: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    avatarUrl: Type.Optional(
      Nullable(Type.String({ maxLength: 2048, format: 'uri', pattern: '^https://[^\\s]+$' })),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type UpdateMe = Static<typeof UpdateMe>

export const UsernameParams = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
)

/** The author summary embedded in stories. */
export const AuthorSummary = Type.Object({
  id: Uuid,
  username: Type.String(),
  displayName: Nullable(Type.String()),
  avatarUrl: Nullable(Type.String()),
})
export type AuthorSummary = Static<typeof AuthorSummary>
