import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import type { InjectOptions } from 'fastify'
import { uuidv7 } from 'uuidv7'
import { createStory, createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, unique } from '../helpers/app.ts'

// Counts the SQL statements each endpoint issues, so an N+1 shows up as a failure.
const t = await buildTestApp()
const { app } = t
const { database } = t.platform.ctx
const username = unique('counted')
const author = await createUser(t, username)
const tag = unique('n').replace('_', '-')

// 150 published stories by 30 different authors: a page of 100 spans many authors.
const authors = await Promise.all(Array.from({ length: 30 }, () => createUser(t, unique('many'))))
const rows = Array.from({ length: 150 }, (_, i) => ({ id: uuidv7(), author: authors[i % 30]!.profile.id }))
await database.db.execute(sql`
  INSERT INTO stories (id, author_id, title, body, tags, status, published_at)
  SELECT r.id, r.author, 'T', 'B', ARRAY[${tag}]::text[], 'published', now()
  FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r(id uuid, author uuid)`)
const story = await publishStory(app, author.headers)
const draft = await createStory(app, author.headers)
// Warm the profile cache, so that authentication costs no statement below.
await app.inject({ method: 'GET', url: '/v1/me', headers: author.headers })

/** Statements issued by this request alone: background jobs run outside its async context. */
async function statementsOf(request: InjectOptions): Promise<number> {
  const { result: res, statements } = await database.countStatements(() => app.inject(request))
  assert.ok(res.statusCode < 400, `${JSON.stringify(request)} → ${res.statusCode} ${res.body}`)
  return statements
}

describe('statements per endpoint', () => {
  const cases: Array<[string, () => InjectOptions, number]> = [
    [
      'a page of 100 stories with authors',
      () => ({ method: 'GET', url: `/v1/stories?limit=100&tag=${tag}` }),
      1,
    ],
    ['the unfiltered feed, 100 items', () => ({ method: 'GET', url: '/v1/stories?limit=100' }), 1],
    [
      "an author's page of stories",
      () => ({ method: 'GET', url: `/v1/profiles/${username}/stories?limit=100` }),
      2,
    ],
    ['?author= filter', () => ({ method: 'GET', url: `/v1/stories?author=${username}&limit=100` }), 2],
    ['one story', () => ({ method: 'GET', url: `/v1/stories/${story.id}` }), 1],
    // No snapshot yet in this fresh database: look for one, rank, then hydrate.
    ['trending, 100 items', () => ({ method: 'GET', url: '/v1/trending?window=7d&limit=100' }), 3],
    ['a public profile', () => ({ method: 'GET', url: `/v1/profiles/${username}` }), 1],
    ['my profile', () => ({ method: 'GET', url: '/v1/me', headers: author.headers }), 1],
    [
      'update my profile',
      () => ({ method: 'PATCH', url: '/v1/me', headers: author.headers, payload: { bio: 'x' } }),
      2,
    ],
    [
      'create a draft',
      () => ({
        method: 'POST',
        url: '/v1/stories',
        headers: author.headers,
        payload: { title: 't', body: 'b' },
      }),
      3,
    ],
    [
      'edit a draft',
      () => ({
        method: 'PATCH',
        url: `/v1/stories/${draft.id}`,
        headers: author.headers,
        payload: { title: 'e' },
      }),
      3,
    ],
    [
      'publish a draft',
      () => ({ method: 'POST', url: `/v1/stories/${draft.id}/publish`, headers: author.headers }),
      5,
    ],
    [
      'delete a story',
      () => ({ method: 'DELETE', url: `/v1/stories/${draft.id}`, headers: author.headers }),
      4,
    ],
    ['like', () => ({ method: 'PUT', url: `/v1/stories/${story.id}/like`, headers: author.headers }), 1],
    ['unlike', () => ({ method: 'DELETE', url: `/v1/stories/${story.id}/like`, headers: author.headers }), 1],
  ]
  for (const [name, request, expected] of cases) {
    test(`${name}: ${expected} statement(s)`, async () => {
      const count = await statementsOf(request())
      assert.ok(count <= expected, `${name} issued ${count} statements, expected at most ${expected}`)
      // Reads are at most 3 statements whatever the page size. Writes add their audit row
      // and, for publish, the outbox row: still a constant, never per item.
      if (request().method === 'GET') assert.ok(count <= 3, 'no read may take more than 3 statements')
    })
  }

  test('the page of 100 really spans 30 authors, each with its summary', async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/stories?limit=100&tag=${tag}` })
    const items = res.json().items as Array<{ author: { username: string } }>
    assert.equal(items.length, 100)
    assert.equal(new Set(items.map((i) => i.author.username)).size, 30)
  })
})
