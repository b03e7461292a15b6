import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import pino from 'pino'
import { openDatabase } from '../../src/platform/db/database.ts'
import { rowsOf } from '../../src/platform/db/rows.ts'
import { inTransaction } from '../../src/platform/db/transaction.ts'
import { createStory, createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, freshDataDir, unique } from '../helpers/app.ts'

const t = await buildTestApp()
const { app } = t
const { database, db } = t.platform.ctx
const author = await createUser(t, unique('atomic'))

/** Fails the first statement whose SQL matches `pattern`, once. */
function failOn(pattern: RegExp) {
  let fired = false
  database.setStatementHook((text) => {
    if (!fired && pattern.test(text)) {
      fired = true
      throw new Error('injected fault')
    }
  })
  return () => {
    database.setStatementHook(null)
    assert.ok(fired, `no statement matched ${pattern}`)
  }
}

async function scalar(query: ReturnType<typeof sql>): Promise<unknown> {
  const [row] = await rowsOf<{ v: unknown }>(db.execute(query))
  return row?.v
}

describe('multi-step writes are all-or-nothing', () => {
  test('publish: a failure after the status change leaves a draft and the count unchanged', async () => {
    const draft = await createStory(app, author.headers)
    const done = failOn(/update "profiles"/)
    const res = await app.inject({
      method: 'POST',
      url: `/v1/stories/${draft.id}/publish`,
      headers: author.headers,
    })
    done()
    assert.equal(res.statusCode, 500)
    assert.equal(await scalar(sql`SELECT status AS v FROM stories WHERE id = ${draft.id}`), 'draft')
    assert.equal(
      await scalar(sql`SELECT published_story_count AS v FROM profiles WHERE id = ${author.profile.id}`),
      (await app.inject({ method: 'GET', url: `/v1/profiles/${author.profile.username}` })).json()
        .publishedStoryCount,
    )
  })

  test('delete: a failure after the soft delete leaves the story visible and counted', async () => {
    const story = await publishStory(app, author.headers)
    const before = await scalar(
      sql`SELECT published_story_count AS v FROM profiles WHERE id = ${author.profile.id}`,
    )
    const done = failOn(/update "profiles"/)
    const res = await app.inject({
      method: 'DELETE',
      url: `/v1/stories/${story.id}`,
      headers: author.headers,
    })
    done()
    assert.equal(res.statusCode, 500)
    assert.equal(await scalar(sql`SELECT deleted_at AS v FROM stories WHERE id = ${story.id}`), null)
    assert.equal(
      await scalar(sql`SELECT published_story_count AS v FROM profiles WHERE id = ${author.profile.id}`),
      before,
    )
  })

  test('like and unlike are each one statement: no partial state can exist between row and counter', async () => {
    const story = await publishStory(app, author.headers)
    const fan = await t.auth(unique('fan'))
    await app.inject({ method: 'GET', url: '/v1/me', headers: fan })
    for (const method of ['PUT', 'DELETE'] as const) {
      const { result: res, statements } = await database.countStatements(() =>
        app.inject({ method, url: `/v1/stories/${story.id}/like`, headers: fan }),
      )
      assert.equal(res.statusCode, 200)
      assert.equal(statements, 1, `${method} like issues exactly one statement`)
    }
    const done = failOn(/INSERT INTO story_likes/)
    assert.equal(
      (await app.inject({ method: 'PUT', url: `/v1/stories/${story.id}/like`, headers: fan })).statusCode,
      500,
    )
    done()
    assert.equal(
      await scalar(sql`SELECT count(*)::int AS v FROM story_likes WHERE story_id = ${story.id}`),
      0,
    )
    assert.equal(await scalar(sql`SELECT like_count AS v FROM stories WHERE id = ${story.id}`), 0)
  })

  test('create with an Idempotency-Key: a failure before the key is completed leaves no story and no key', async () => {
    const key = unique('key')
    const title = unique('title')
    const done = failOn(/UPDATE idempotency_keys/)
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: { ...author.headers, 'idempotency-key': key },
      payload: { title, body: 'b' },
    })
    done()
    assert.equal(res.statusCode, 500)
    assert.equal(await scalar(sql`SELECT count(*)::int AS v FROM stories WHERE title = ${title}`), 0)
    assert.equal(await scalar(sql`SELECT count(*)::int AS v FROM idempotency_keys WHERE key = ${key}`), 0)
  })

  test('fault injection is refused in production', async () => {
    const config = { ...t.platform.ctx.config, NODE_ENV: 'production' as const, DATA_DIR: freshDataDir() }
    const production = await openDatabase(config, pino({ level: 'silent' }))
    try {
      assert.throws(() => production.setStatementHook(() => {}), /refused in production/)
    } finally {
      await production.close()
    }
  })
})

describe('inTransaction retries', () => {
  const failure = (code: string) => Object.assign(new Error(`fail ${code}`), { code })

  test('retries serialization failures and deadlocks, then succeeds', async () => {
    let attempts = 0
    const result = await inTransaction(db, async () => {
      attempts++
      if (attempts === 1) throw failure('40001')
      if (attempts === 2) throw failure('40P01')
      return 'ok'
    })
    assert.equal(result, 'ok')
    assert.equal(attempts, 3)
  })

  test('gives up after the bounded number of retries', async () => {
    let attempts = 0
    await assert.rejects(
      inTransaction(
        db,
        async () => {
          attempts++
          throw failure('40001')
        },
        { retries: 2 },
      ),
      /fail 40001/,
    )
    assert.equal(attempts, 3)
  })

  test('does not retry other errors', async () => {
    let attempts = 0
    await assert.rejects(
      inTransaction(db, async () => {
        attempts++
        throw failure('23505')
      }),
    )
    assert.equal(attempts, 1)
  })

  test('a real serialization failure between two serializable transactions is retried to success', async () => {
    const story = await publishStory(app, author.headers)
    const bump = () =>
      inTransaction(
        db,
        async (tx) => {
          const [row] = await rowsOf<{ n: number }>(
            tx.execute(sql`SELECT like_count AS n FROM stories WHERE id = ${story.id}`),
          )
          await tx.execute(sql`UPDATE stories SET like_count = ${row!.n + 1} WHERE id = ${story.id}`)
        },
        { isolationLevel: 'serializable', retries: 10 },
      )
    await Promise.all([bump(), bump(), bump()])
    assert.equal(await scalar(sql`SELECT like_count AS v FROM stories WHERE id = ${story.id}`), 3)
  })
})
