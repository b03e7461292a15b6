import { randomBytes } from 'node:crypto'
import { eq, type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { DbOrTx } from '../../platform/db/database.ts'
import { profiles } from './profiles.table.ts'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** A fresh profile's username until its owner picks one: `user_` + 10 random characters. */
export function generatedUsername(): string {
  const bytes = randomBytes(10)
  return `user_${Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('')}`
}

/**
 * Get-or-create in one statement, race-free: concurrent first requests of one
 * subject all land on the same row. The update makes RETURNING yield the existing
 * row; `xmax = 0` tells whether this statement inserted it.
 */
/**
 * The same upsert, with `audit` (an INSERT … SELECT … FROM p WHERE p.created) run by
 * the same statement: the profile and its audit row commit together.
 */
export async function upsertProfileBySubjectAudited(
  db: DbOrTx,
  subject: string,
  email: string | undefined,
  audit: SQL,
): Promise<{ id: string; created: boolean; auditId: number | null }> {
  const result = (await db.execute(sql`WITH p AS (
      INSERT INTO profiles (id, subject, username, email)
      VALUES (${uuidv7()}, ${subject}, ${generatedUsername()}, ${email ?? null})
      ON CONFLICT (subject) DO UPDATE SET email = coalesce(excluded.email, profiles.email)
      RETURNING id, (xmax = 0) AS created),
    a AS (${audit})
    SELECT p.id, p.created, (SELECT a.id FROM a)::int AS audit_id FROM p`)) as unknown as {
    rows: { id: string; created: boolean; audit_id: number | null }[]
  }
  const row = result.rows[0]!
  return { id: row.id, created: row.created, auditId: row.audit_id }
}

export async function upsertProfileBySubject(db: DbOrTx, subject: string, email: string | undefined) {
  const [row] = await db
    .insert(profiles)
    .values({ id: uuidv7(), subject, username: generatedUsername(), email: email ?? null })
    .onConflictDoUpdate({
      target: profiles.subject,
      set: { email: sql`coalesce(excluded.email, ${profiles.email})` },
    })
    .returning({ id: profiles.id, created: sql<boolean>`(xmax = 0)` })
  return row!
}

const profileColumns = {
  id: profiles.id,
  username: profiles.username,
  displayName: profiles.displayName,
  bio: profiles.bio,
  avatarUrl: profiles.avatarUrl,
  email: profiles.email,
  publishedStoryCount: profiles.publishedStoryCount,
  createdAt: profiles.createdAt,
  updatedAt: profiles.updatedAt,
}

export async function findProfileById(db: DbOrTx, id: string) {
  const [row] = await db.select(profileColumns).from(profiles).where(eq(profiles.id, id)).limit(1)
  return row
}

export async function findProfileByUsername(db: DbOrTx, username: string) {
  const [row] = await db.select(profileColumns).from(profiles).where(eq(profiles.username, username)).limit(1)
  return row
}

export async function findProfileIdByUsername(db: DbOrTx, username: string): Promise<string | undefined> {
  const [row] = await db
    .select({ id: profiles.id })
    .from(profiles)
    .where(eq(profiles.username, username))
    .limit(1)
  return row?.id
}

export interface ProfileChanges {
  username?: string
  displayName?: string | null
  bio?: string | null
  avatarUrl?: string | null
}

export async function updateProfile(db: DbOrTx, id: string, changes: ProfileChanges) {
  const [row] = await db
    .update(profiles)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(profiles.id, id))
    .returning(profileColumns)
  return row
}

/** Keeps the denormalized count in step; call inside the transaction that changes a story's visibility. */
export async function adjustPublishedStoryCount(db: DbOrTx, profileId: string, delta: 1 | -1) {
  await db
    .update(profiles)
    .set({ publishedStoryCount: sql`${profiles.publishedStoryCount} + ${delta}` })
    .where(eq(profiles.id, profileId))
}

export type ProfileRow = NonNullable<Awaited<ReturnType<typeof findProfileById>>>
