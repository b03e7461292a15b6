import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import { assertProblem, createUser, publishStory } from '../../../test/helpers/api.ts'
import { buildTestApp, unique } from '../../../test/helpers/app.ts'
import { inTransaction } from '../../platform/db/transaction.ts'
import { readTrending } from './jobs.ts'

const emptyCache = { get: async () => undefined }
const rowsLength = (result: unknown) =>
  ((result as { rows?: unknown[] }).rows ?? (result as unknown[])).length

const t = await buildTestApp()
const { app } = t
const author = await createUser(t, unique('trendy'))
const db = t.platform.ctx.db

async function setCounters(id: string, likes: number, views: number, hoursAgo: number) {
  await db.execute(sql`UPDATE stories SET like_count = ${likes}, view_count = ${views},
    published_at = now() - make_interval(hours => ${hoursAgo}) WHERE id = ${id}`)
}

/** Reads through the snapshot, recomputed first as the worker does every minute. */
async function trending(window = '24h', limit = 100) {
  await t.platform.ctx.jobs.runNow('trending.recompute')
  const res = await app.inject({ method: 'GET', url: `/v1/trending?window=${window}&limit=${limit}` })
  assert.equal(res.statusCode, 200, res.body)
  return res.json().items as Array<{ id: string; score: number }>
}

describe('GET /v1/trending', () => {
  test('a like weighs more than a view, and newer beats older at equal engagement', async () => {
    const liked = await publishStory(app, author.headers)
    const viewed = await publishStory(app, author.headers)
    const older = await publishStory(app, author.headers)
    await setCounters(liked.id, 1000, 0, 1)
    await setCounters(viewed.id, 0, 1000, 1)
    await setCounters(older.id, 1000, 0, 10)
    const ids = (await trending()).map((i) => i.id)
    assert.ok(ids.indexOf(liked.id) < ids.indexOf(viewed.id), 'likes outrank views')
    assert.ok(ids.indexOf(liked.id) < ids.indexOf(older.id), 'newer outranks older')
  })

  test('the window bounds the stories considered', async () => {
    const week = await publishStory(app, author.headers)
    await setCounters(week.id, 5000, 0, 72)
    assert.ok(!(await trending('24h')).some((i) => i.id === week.id))
    assert.ok((await trending('7d')).some((i) => i.id === week.id))
  })

  test('deleted stories are gone from trending at once, before the next recompute', async () => {
    const story = await publishStory(app, author.headers)
    await setCounters(story.id, 9000, 0, 1)
    assert.ok((await trending()).some((i) => i.id === story.id))
    await app.inject({ method: 'DELETE', url: `/v1/stories/${story.id}`, headers: author.headers })
    const res = await app.inject({ method: 'GET', url: '/v1/trending?limit=100' })
    assert.ok(!res.json().items.some((i: { id: string }) => i.id === story.id))
  })

  test('the recompute stores the ranking in the snapshot table and the cache', async () => {
    const story = await publishStory(app, author.headers)
    await setCounters(story.id, 8000, 0, 1)
    await t.platform.ctx.jobs.runNow('trending.recompute')
    const rows = await db.execute(
      sql`SELECT 1 FROM trending_snapshot WHERE story_id = ${story.id} AND time_window = '24h'`,
    )
    assert.equal(rowsLength(rows), 1)
    const cached = await t.platform.ctx.cache.get('trending:ranking:24h')
    assert.ok(cached?.includes(story.id))
  })

  test('with no snapshot yet (first start) the ranking is computed on the spot', async () => {
    const story = await publishStory(app, author.headers)
    await setCounters(story.id, 7000, 0, 1)
    // Inside a transaction rolled back afterwards, so no other test sees the empty table.
    const ids = await inTransaction(db, async (tx) => {
      await tx.execute(sql`DELETE FROM trending_snapshot`)
      const ctx = {
        ...t.platform.ctx,
        cache: emptyCache,
        database: { read: (f: (d: typeof tx) => unknown) => f(tx) },
      }
      const items = await readTrending(ctx as never, '24h', 100)
      throw Object.assign(new Error('rollback'), { items })
    }).catch((err) => (err as { items: Array<{ id: string }> }).items.map((i) => i.id))
    assert.ok(ids.includes(story.id))
  })

  test('scores are in descending order and the limit holds', async () => {
    const items = await trending('7d', 3)
    assert.ok(items.length <= 3)
    const scores = items.map((i) => i.score)
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    )
  })

  test('an unknown window or bad limit is a 400', async () => {
    assertProblem(
      await app.inject({ method: 'GET', url: '/v1/trending?window=1y' }),
      400,
      'validation_failed',
    )
    assertProblem(
      await app.inject({ method: 'GET', url: '/v1/trending?limit=1000' }),
      400,
      'validation_failed',
    )
  })
})
