import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import { rowsOf } from '../../src/platform/db/rows.ts'
import { assertProblem, createStory, createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, unique } from '../helpers/app.ts'

// A generous pool wait: this file is about correct counts, not about the pool's bound (pool.services.test.ts).
const t = await buildTestApp({ DB_POOL_MAX: '20', DB_CONNECT_TIMEOUT_MS: '20000' })
const { app } = t
const author = await createUser(t, unique('busy'))

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await rowsOf<{ n: number }>(t.platform.ctx.db.execute(query))
  return row!.n
}

describe('likes under concurrency', () => {
  test('200 concurrent likes of one story by 200 users give exactly 200', async () => {
    const story = await publishStory(app, author.headers)
    const fans = await Promise.all(Array.from({ length: 200 }, () => t.auth(unique('fan'))))
    // Every fan's profile exists first, so the race is on the like alone.
    await Promise.all(fans.map((headers) => app.inject({ method: 'GET', url: '/v1/me', headers })))
    const results = await Promise.all(
      fans.map((headers) => app.inject({ method: 'PUT', url: `/v1/stories/${story.id}/like`, headers })),
    )
    assert.deepEqual([...new Set(results.map((r) => r.statusCode))], [200])
    const read = await app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })
    assert.equal(read.json().likeCount, 200)
    assert.equal(
      await count(sql`SELECT count(*)::int AS n FROM story_likes WHERE story_id = ${story.id}`),
      200,
    )
  })
})

describe('optimistic concurrency with ETag and If-Match', () => {
  test('GET returns an ETag; If-None-Match with it gives 304; a like changes it', async () => {
    const story = await publishStory(app, author.headers)
    const first = await app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })
    const etag = String(first.headers.etag)
    assert.match(etag, /^"v2-[\w-]+"$/)
    const notModified = await app.inject({
      method: 'GET',
      url: `/v1/stories/${story.id}`,
      headers: { 'if-none-match': etag },
    })
    assert.equal(notModified.statusCode, 304)
    assert.equal(notModified.body, '')
    await app.inject({
      method: 'PUT',
      url: `/v1/stories/${story.id}/like`,
      headers: await t.auth(unique('fan')),
    })
    const after = await app.inject({
      method: 'GET',
      url: `/v1/stories/${story.id}`,
      headers: { 'if-none-match': etag },
    })
    assert.equal(after.statusCode, 200)
    assert.notEqual(after.headers.etag, etag)
  })

  test('concurrent PATCHes with the ETag of one version: one 200, the rest 412', async () => {
    const story = await createStory(app, author.headers)
    const read = await app.inject({ method: 'GET', url: `/v1/stories/${story.id}`, headers: author.headers })
    const etag = String(read.headers.etag)
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        app.inject({
          method: 'PATCH',
          url: `/v1/stories/${story.id}`,
          headers: { ...author.headers, 'if-match': etag },
          payload: { title: `Edit ${i}` },
        }),
      ),
    )
    const statuses = results.map((r) => r.statusCode).sort()
    assert.deepEqual(statuses, [200, ...Array(9).fill(412)])
    for (const r of results.filter((r) => r.statusCode === 412)) assertProblem(r, 412, 'precondition_failed')
    const winner = results.find((r) => r.statusCode === 200)!
    assert.equal(winner.json().version, 2)
    assert.notEqual(winner.headers.etag, etag)
  })

  test('a malformed If-Match is a 412; If-Match: * and no If-Match update', async () => {
    const story = await createStory(app, author.headers)
    const patch = (ifMatch?: string) =>
      app.inject({
        method: 'PATCH',
        url: `/v1/stories/${story.id}`,
        headers: { ...author.headers, ...(ifMatch ? { 'if-match': ifMatch } : {}) },
        payload: { body: 'new body' },
      })
    assertProblem(await patch('"garbage"'), 412, 'precondition_failed')
    assert.equal((await patch('*')).statusCode, 200)
    assert.equal((await patch()).statusCode, 200)
  })
})

describe('Idempotency-Key on POST /v1/stories', () => {
  const post = (headers: Record<string, string>, key: string, payload: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: { ...headers, 'idempotency-key': key },
      payload,
    })

  test('a retry with the same key and body returns the original response and creates nothing', async () => {
    const key = unique('k')
    const title = unique('idem')
    const first = await post(author.headers, key, { title, body: 'b' })
    assert.equal(first.statusCode, 201)
    const retry = await post(author.headers, key, { body: 'b', title })
    assert.equal(retry.statusCode, 201)
    assert.equal(retry.headers['idempotent-replayed'], 'true')
    assert.equal(retry.headers.location, first.headers.location)
    assert.deepEqual(retry.json(), first.json())
    assert.equal(await count(sql`SELECT count(*)::int AS n FROM stories WHERE title = ${title}`), 1)
  })

  test('the same key with another body is a 422', async () => {
    const key = unique('k')
    await post(author.headers, key, { title: unique('one'), body: 'b' })
    assertProblem(
      await post(author.headers, key, { title: unique('two'), body: 'b' }),
      422,
      'idempotency_key_reused',
    )
  })

  test('keys are scoped to the subject', async () => {
    const key = unique('k')
    const other = await t.auth(unique('other'))
    const title = unique('scoped')
    assert.equal((await post(author.headers, key, { title, body: 'b' })).statusCode, 201)
    const second = await post(other, key, { title, body: 'b' })
    assert.equal(second.statusCode, 201)
    assert.equal(second.headers['idempotent-replayed'], undefined)
    assert.equal(await count(sql`SELECT count(*)::int AS n FROM stories WHERE title = ${title}`), 2)
  })

  test('concurrent requests with one key create one story', async () => {
    const key = unique('k')
    const title = unique('race')
    const results = await Promise.all(
      Array.from({ length: 8 }, () => post(author.headers, key, { title, body: 'b' })),
    )
    assert.deepEqual([...new Set(results.map((r) => r.statusCode))], [201])
    assert.equal(new Set(results.map((r) => r.json().id)).size, 1)
    assert.equal(await count(sql`SELECT count(*)::int AS n FROM stories WHERE title = ${title}`), 1)
  })

  test('a key expires after 24 hours, and the purge job removes expired keys', async () => {
    const key = unique('k')
    const title = unique('old')
    await post(author.headers, key, { title, body: 'b' })
    await t.platform.ctx.db.execute(
      sql`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = ${key}`,
    )
    const again = await post(author.headers, key, { title, body: 'b' })
    assert.equal(again.headers['idempotent-replayed'], undefined)
    assert.equal(await count(sql`SELECT count(*)::int AS n FROM stories WHERE title = ${title}`), 2)
    const [expiry] = await rowsOf<{ hours: number }>(
      t.platform.ctx.db.execute(
        sql`SELECT round(extract(epoch FROM expires_at - created_at) / 3600)::int AS hours FROM idempotency_keys WHERE key = ${key}`,
      ),
    )
    assert.equal(expiry!.hours, 24)
    await t.platform.ctx.db.execute(
      sql`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = ${key}`,
    )
    await t.platform.ctx.jobs.runNow('idempotency.purge-expired')
    assert.equal(await count(sql`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = ${key}`), 0)
  })

  test('a malformed key is a 400', async () => {
    const res = await post(author.headers, 'has space', { title: 't', body: 'b' })
    assertProblem(res, 400, 'validation_failed')
  })
})
