import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { findStory } from '../../src/modules/stories/queries.ts'
import { stories } from '../../src/modules/stories/stories.table.ts'
import { scopedDb } from '../../src/platform/db/scoped.ts'
import { withStatementSignal } from '../../src/platform/db/statement-signal.ts'
import { Deadline } from '../../src/platform/deadline.ts'
import { outsideScope } from '../../src/platform/request-scope.ts'
import { assertProblem } from '../helpers/api.ts'
import { buildTestApp } from '../helpers/app.ts'

const DEADLINE_MS = 500
// A marker in the SQL text identifies this file's statements in pg_stat_activity.
const marker = `deadline_${randomUUID().replaceAll('-', '')}`
const onPostgres = Boolean(process.env.DATABASE_URL)

const seen = { statementRefused: undefined as unknown }

// Request code reaches the database through its own handle (request.deps.db), which
// carries the request's deadline to every statement it starts.
function testRoutes(app: FastifyInstance) {
  app.get('/test/sleep', async (request) => {
    await request.deps.db.execute(sql.raw(`SELECT pg_sleep(30) AS ${marker}_plain`))
    return { finished: true }
  })
  app.get('/test/sleep-in-transaction', async (request) => {
    await request.deps.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT 1`)
      await tx.execute(sql.raw(`SELECT pg_sleep(30) AS ${marker}_tx`))
    })
    return { finished: true }
  })
  app.get('/test/sleep-long', { config: { timeoutMs: 3000 } }, async (request) => {
    await request.deps.db.execute(sql.raw(`SELECT pg_sleep(30) AS ${marker}_long`))
    return { finished: true }
  })
  app.get('/test/sleep-medium', { config: { timeoutMs: 1000 } }, async (request) => {
    await request.deps.db.execute(sql.raw(`SELECT pg_sleep(30) AS ${marker}_medium`))
    return { finished: true }
  })
  app.get('/test/query', async (request) => request.deps.db.execute(sql`SELECT 1 AS one`))
  app.get('/test/query-after-deadline', async (request) => {
    await sleep(DEADLINE_MS + 200)
    try {
      await request.deps.db.execute(sql`SELECT 1`)
      seen.statementRefused = false
    } catch (err) {
      seen.statementRefused = err
    }
    return {}
  })
}

const t = await buildTestApp({ REQUEST_TIMEOUT_MS: String(DEADLINE_MS), DB_POOL_MAX: '2' }, testRoutes)

/** Active statements of this file's slow routes, seen from a separate connection. */
async function running(label: string): Promise<number> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await client.connect()
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`,
      [`%${marker}_${label}%`],
    )
    return rows[0].n
  } finally {
    await client.end()
  }
}

async function waitFor(condition: () => Promise<boolean>, what: string, limitMs = 5000) {
  const until = performance.now() + limitMs
  while (!(await condition())) {
    if (performance.now() > until) assert.fail(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

async function expectCancelled(url: string, label: string) {
  const response = t.app.inject({ method: 'GET', url })
  await waitFor(async () => (await running(label)) === 1, 'the slow statement to start')
  const started = performance.now()
  const res = await response
  assertProblem(res, 503, 'timeout')
  // The statement was running when the 503 went out; it must be gone right after.
  await waitFor(async () => (await running(label)) === 0, 'the statement to be cancelled', 2000)
  return performance.now() - started
}

if (onPostgres) {
  describe('deadline on PostgreSQL: the statement is cancelled, not left running', () => {
    test('a slow statement disappears from pg_stat_activity after the deadline', async () => {
      await expectCancelled('/test/sleep', 'plain')
    })

    test('a slow statement inside a transaction is cancelled too', async () => {
      await expectCancelled('/test/sleep-in-transaction', 'tx')
    })

    test('a request waiting for a pool connection gives up at its deadline', async () => {
      // DB_POOL_MAX is 2: two long statements hold every connection.
      const holders = [1, 2].map(() => t.app.inject({ method: 'GET', url: '/test/sleep-long' }))
      await waitFor(async () => (await running('long')) === 2, 'both connections to be busy')
      const started = performance.now()
      assertProblem(await t.app.inject({ method: 'GET', url: '/test/query' }), 503, 'timeout')
      assert.ok(performance.now() - started < DEADLINE_MS + 500)
      for (const res of await Promise.all(holders)) assertProblem(res, 503, 'timeout')
      await waitFor(async () => (await running('long')) === 0, 'the long statements to be cancelled', 2000)
      const res = await t.app.inject({ method: 'GET', url: '/test/query' })
      assert.equal(res.statusCode, 200, res.body)
    })

    test('a connection that arrives after its waiter gave up is released once, not twice', async () => {
      const unhandled: unknown[] = []
      const onUnhandled = (err: unknown) => unhandled.push(err)
      process.on('unhandledRejection', onUnhandled)
      try {
        // Both connections held until 1 s, within DB_CONNECT_TIMEOUT_MS (2 s): the waiter,
        // gone at its 500 ms deadline, is handed a connection when they are cancelled.
        const holders = [1, 2].map(() => t.app.inject({ method: 'GET', url: '/test/sleep-medium' }))
        await waitFor(async () => (await running('medium')) === 2, 'both connections to be busy')
        assertProblem(await t.app.inject({ method: 'GET', url: '/test/query' }), 503, 'timeout')
        for (const res of await Promise.all(holders)) assertProblem(res, 503, 'timeout')
        await waitFor(async () => (await running('medium')) === 0, 'the statements to be cancelled', 2000)
        await sleep(500)
        assert.deepEqual(unhandled.map(String), [])
        const res = await t.app.inject({ method: 'GET', url: '/test/query' })
        assert.equal(res.statusCode, 200, res.body)
      } finally {
        process.off('unhandledRejection', onUnhandled)
      }
    })

    test('cancelled connections do not leak from the pool', async () => {
      // DB_POOL_MAX is 2: three timeouts in a row would starve a leaking pool.
      for (let i = 0; i < 3; i++) await expectCancelled('/test/sleep', 'plain')
      const res = await t.app.inject({ method: 'GET', url: '/v1/stories' })
      assert.equal(res.statusCode, 200, res.body)
    })
  })
} else {
  describe('deadline on the embedded PGlite (best effort)', () => {
    test('a statement is not started once the deadline has passed', async () => {
      assertProblem(await t.app.inject({ method: 'GET', url: '/test/query-after-deadline' }), 503, 'timeout')
      await waitFor(async () => seen.statementRefused !== undefined, 'the handler to try its query')
      assert.ok(seen.statementRefused instanceof Error, 'the late statement ran')
      // Drizzle wraps driver errors; the deadline's reason is the cause.
      const refusal = seen.statementRefused as Error & { code?: string; cause?: { code?: string } }
      assert.equal(refusal.code ?? refusal.cause?.code, 'timeout')
      const res = await t.app.inject({ method: 'GET', url: '/v1/stories' })
      assert.equal(res.statusCode, 200, res.body)
    })
  })
}

describe('deadline on either database', () => {
  const aborted = () => ({ deadline: Deadline.from(AbortSignal.abort(new Error('past the deadline'))) })

  test('every kind of statement through a handle under an aborted deadline is refused', async () => {
    const handle = scopedDb(t.app.ctx.db, aborted())
    await assert.rejects(handle.execute(sql`SELECT 1`), 'raw SQL')
    await assert.rejects(handle.select({ n: sql`1` }).from(stories).limit(1), 'a built query')
    await assert.rejects(findStory(handle, randomUUID()), 'a named prepared statement')
    await assert.rejects(
      handle.transaction(async (tx) => tx.execute(sql`SELECT 1`)),
      'a transaction',
    )
    await assert.rejects(
      t.app.ctx.database.read((db) => db.execute(sql`SELECT 1`), aborted()),
      'a read with the scope',
    )
  })

  test('the shared handle is not bound by a request handle beside it', async () => {
    const { db } = t.app.ctx
    const handle = scopedDb(db, aborted())
    await assert.rejects(handle.execute(sql`SELECT 1`))
    assert.ok(await db.execute(sql`SELECT 1 AS one`))
    assert.ok(await t.app.ctx.database.read((read) => read.execute(sql`SELECT 1 AS one`)))
  })

  test('a pool call started in a scope is bound by it; one started outside any scope is not', async () => {
    const { database } = t.app.ctx
    const signal = AbortSignal.abort(new Error('past the deadline'))
    await assert.rejects(withStatementSignal(signal, () => database.ping()))
    await withStatementSignal(signal, () => outsideScope(() => database.ping()))
  })
})
