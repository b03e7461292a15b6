import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { assertProblem, createUser, publishStory } from '../../../test/helpers/api.ts'
import { buildTestApp, unique } from '../../../test/helpers/app.ts'

const t = await buildTestApp()
const { app } = t
const author = await createUser(t, unique('pager'))

/** Inserts `count` published stories with `tag`; half share one timestamp to exercise the id tie-break. */
async function insertPublished(tag: string, count: number): Promise<string[]> {
  const base = Date.now() - 3_600_000
  const rows = Array.from({ length: count }, (_, i) => ({
    id: uuidv7(),
    at: new Date(i % 2 === 0 ? base : base - i * 1000).toISOString(),
  }))
  await t.platform.ctx.db.execute(sql`
    INSERT INTO stories (id, author_id, title, body, tags, status, published_at)
    SELECT r.id, ${author.profile.id}::uuid, 'Story', 'Body', ARRAY[${tag}]::text[], 'published', r.at
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r(id uuid, at timestamptz)`)
  return rows.map((r) => r.id)
}

async function page(url: string) {
  const res = await app.inject({ method: 'GET', url })
  assert.equal(res.statusCode, 200, res.body)
  return res.json() as { items: Array<{ id: string; publishedAt: string }>; nextCursor: string | null }
}

describe('GET /v1/stories pagination', () => {
  test('walking all pages of 1,000 stories returns each exactly once while new ones are published', async () => {
    const tag = unique('walk').replace('_', '-')
    const original = new Set(await insertPublished(tag, 1000))
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const body = await page(
        `/v1/stories?tag=${tag}&limit=37${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      )
      seen.push(...body.items.map((i) => i.id))
      cursor = body.nextCursor
      pages++
      // Publish newer stories between page reads; they sort before the cursor and must not disturb the walk.
      if (pages % 5 === 0) await publishStory(app, author.headers, { tags: [tag] })
    } while (cursor)
    assert.equal(new Set(seen).size, seen.length, 'no story is returned twice')
    for (const id of original) assert.ok(seen.includes(id), `story ${id} was skipped`)
    assert.equal(pages, Math.ceil(1000 / 37))
  })

  test('items are newest first and carry the author summary and counters', async () => {
    const tag = unique('order').replace('_', '-')
    await insertPublished(tag, 30)
    const body = await page(`/v1/stories?tag=${tag}&limit=30`)
    const times = body.items.map((i) => Date.parse(i.publishedAt))
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    )
    const item = body.items[0] as unknown as Record<string, unknown>
    for (const key of ['id', 'title', 'excerpt', 'tags', 'author', 'likeCount', 'viewCount', 'publishedAt']) {
      assert.ok(key in item, `missing ${key}`)
    }
    assert.equal(body.nextCursor, null)
  })

  test('limit defaults to 20 and must be 1-100', async () => {
    const tag = unique('limit').replace('_', '-')
    await insertPublished(tag, 25)
    assert.equal((await page(`/v1/stories?tag=${tag}`)).items.length, 20)
    for (const limit of ['0', '101', 'abc', '-1']) {
      assertProblem(
        await app.inject({ method: 'GET', url: `/v1/stories?limit=${limit}` }),
        400,
        'validation_failed',
      )
    }
  })

  test('a tampered, truncated or foreign cursor is a 400', async () => {
    const tag = unique('cursor').replace('_', '-')
    await insertPublished(tag, 5)
    const { nextCursor } = await page(`/v1/stories?tag=${tag}&limit=2`)
    assert.ok(nextCursor)
    const [payload, mac] = nextCursor.split('.')
    const forged = Buffer.from(
      JSON.stringify({ publishedAt: '2999-01-01T00:00:00.000Z', id: uuidv7() }),
    ).toString('base64url')
    for (const bad of [
      `${forged}.${mac}`,
      `${payload}.${mac!.slice(0, -2)}xx`,
      payload!,
      'garbage',
      `${payload}.${mac}.x`,
    ]) {
      const res = await app.inject({ method: 'GET', url: `/v1/stories?cursor=${encodeURIComponent(bad)}` })
      assertProblem(res, 400, 'invalid_cursor')
    }
  })

  test('?author= filters by username; an unknown author gives an empty page', async () => {
    const other = await createUser(t, unique('solo'))
    const story = await publishStory(app, other.headers)
    const body = await page(`/v1/stories?author=${other.profile.username}`)
    assert.deepEqual(
      body.items.map((i) => i.id),
      [story.id],
    )
    assert.deepEqual((await page(`/v1/stories?author=${unique('ghost')}`)).items, [])
  })

  test('unknown query parameters are refused', async () => {
    assertProblem(
      await app.inject({ method: 'GET', url: '/v1/stories?sort=oldest' }),
      400,
      'validation_failed',
    )
  })
})

describe('GET /v1/profiles/:username/stories', () => {
  test("lists one author's published stories only", async () => {
    const username = unique('feed')
    const writer = await createUser(t, username)
    const a = await publishStory(app, writer.headers)
    const b = await publishStory(app, writer.headers)
    await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: writer.headers,
      payload: { title: 'd', body: 'd' },
    })
    const body = await page(`/v1/profiles/${username}/stories`)
    assert.deepEqual(
      body.items.map((i) => i.id),
      [b.id, a.id],
    )
  })

  test('an unknown username is a 404', async () => {
    assertProblem(
      await app.inject({ method: 'GET', url: `/v1/profiles/${unique('x')}/stories` }),
      404,
      'profile_not_found',
    )
  })
})
