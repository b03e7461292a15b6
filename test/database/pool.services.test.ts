import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import pg from 'pg'
import pino from 'pino'
import { createPool } from '../../src/platform/db/postgres-pool.ts'
import { assertProblem, createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, unique } from '../helpers/app.ts'

// Real PostgreSQL only: pool limits, failures of the database and of a replica.
const DATABASE_URL = process.env.DATABASE_URL!
// Straight to PostgreSQL even when the suite runs through pgbouncer, whose server
// connections are shared by every client and cannot be killed one app at a time.
const DIRECT_URL = process.env.DATABASE_DIRECT_URL ?? DATABASE_URL
const admin = new pg.Client({ connectionString: DIRECT_URL })
await admin.connect()
after(() => admin.end())

async function acquireCount(
  app: { metrics: { getSingleMetricAsString(name: string): Promise<string> } },
  pool: string,
) {
  const text = await app.metrics.getSingleMetricAsString('db_pool_acquire_seconds')
  const match = new RegExp(`db_pool_acquire_seconds_count\\{pool="${pool}"\\} (\\d+)`).exec(text)
  return match ? Number(match[1]) : 0
}

describe('pool limits', () => {
  test('an exhausted pool answers 503 with Retry-After after a bounded wait, then recovers', async () => {
    const t = await buildTestApp({ DB_POOL_MAX: '1', DB_CONNECT_TIMEOUT_MS: '300', CACHE_ENABLED: 'false' })
    const holding = t.platform.ctx.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_sleep(1.5)`)
    })
    await new Promise((r) => setTimeout(r, 100))
    const started = performance.now()
    const res = await t.app.inject({ method: 'GET', url: '/v1/stories' })
    const waited = performance.now() - started
    assertProblem(res, 503, 'service_unavailable')
    assert.ok(res.headers['retry-after'])
    assert.ok(waited < 1400, `the wait is bounded by DB_CONNECT_TIMEOUT_MS, took ${waited} ms`)
    await holding
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/stories' })).statusCode, 200)
  })

  test('pool metrics report connections, idle, waiting and acquire time', async () => {
    const t = await buildTestApp()
    await t.app.inject({ method: 'GET', url: '/v1/stories' })
    const text = await t.app.metrics.metrics()
    for (const name of ['db_pool_connections', 'db_pool_idle_connections', 'db_pool_waiting_clients']) {
      assert.match(text, new RegExp(`${name}\\{pool="primary"\\} \\d+`))
    }
    assert.ok((await acquireCount(t.app, 'primary')) > 0)
  })
})

describe('database failures', () => {
  test('with the database unreachable, requests get 503 and the process keeps serving', async () => {
    const t = await buildTestApp({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing',
      DB_CONNECT_TIMEOUT_MS: '500',
    })
    const res = await t.app.inject({ method: 'GET', url: '/v1/stories' })
    assertProblem(res, 503, 'service_unavailable')
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  })

  test('backends killed under an idle pool do not crash the process; the next requests succeed', async () => {
    const application = unique('killed')
    const t = await buildTestApp({
      DATABASE_URL: DIRECT_URL,
      DB_POOL_MAX: '5',
      DB_APPLICATION_NAME: application,
    })
    await Promise.all(Array.from({ length: 5 }, () => t.app.inject({ method: 'GET', url: '/v1/stories' })))
    const { rowCount } = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [application],
    )
    assert.ok((rowCount ?? 0) > 0, 'there were idle pool connections to kill')
    await new Promise((r) => setTimeout(r, 200))
    const results = await Promise.all(
      Array.from({ length: 5 }, () => t.app.inject({ method: 'GET', url: '/v1/stories' })),
    )
    for (const r of results) assert.ok([200, 503].includes(r.statusCode), `got ${r.statusCode}`)
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/stories' })).statusCode, 200)
  })
})

describe('read replica', () => {
  test('lists and trending read the replica; a story read after an edit reads the primary', async () => {
    const t = await buildTestApp({ DATABASE_READ_URL: DATABASE_URL })
    const author = await createUser(t, unique('replica'))
    const story = await publishStory(t.app, author.headers)
    const before = await acquireCount(t.app, 'replica')
    await t.app.inject({ method: 'GET', url: '/v1/stories' })
    await t.app.inject({ method: 'GET', url: '/v1/trending' })
    const afterLists = await acquireCount(t.app, 'replica')
    assert.ok(afterLists >= before + 2, 'list and trending used the replica')
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/stories/${story.id}`,
      headers: author.headers,
      payload: { title: 'Edited just now' },
    })
    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/stories/${story.id}`,
      headers: author.headers,
    })
    assert.equal(read.json().title, 'Edited just now')
    assert.equal(
      await acquireCount(t.app, 'replica'),
      afterLists,
      'reading one story never touches the replica',
    )
  })

  test('when the replica is down, lists fall back to the primary', async () => {
    const t = await buildTestApp({
      DATABASE_READ_URL: 'postgres://postgres@127.0.0.1:1/replica',
      DB_CONNECT_TIMEOUT_MS: '500',
    })
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/stories' })).statusCode, 200)
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/trending' })).statusCode, 200)
  })
})

describe('slow query log', () => {
  test('statements slower than DB_SLOW_QUERY_MS are logged with duration and SQL text, without parameters', async () => {
    const lines: Array<Record<string, unknown>> = []
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)))
        done()
      },
    })
    const settings = {
      DB_POOL_MAX: 2,
      DB_CONNECT_TIMEOUT_MS: 2000,
      DB_IDLE_TIMEOUT_MS: 10000,
      DB_MAX_LIFETIME_S: 0,
      DB_STATEMENT_TIMEOUT_MS: 0,
      DB_IDLE_IN_TX_TIMEOUT_MS: 0,
      DB_APPLICATION_NAME: 'inkwell-slowlog',
      DB_STARTUP_PARAMETERS: true,
      DB_SLOW_QUERY_MS: 40,
    }
    const pool = createPool({ connectionString: DATABASE_URL }, settings, pino(sink))
    try {
      await pool.query('SELECT $1::text AS fast', ['secret-value'])
      await pool.query('SELECT pg_sleep(0.08), $1::text', ['secret-value'])
    } finally {
      await pool.end()
    }
    const slow = lines.filter((l) => l.msg === 'slow query')
    assert.equal(slow.length, 1)
    assert.match(String(slow[0]!.statement), /pg_sleep/)
    assert.ok(Number(slow[0]!.durationMs) >= 40)
    assert.doesNotMatch(JSON.stringify(slow), /secret-value/)
  })
})
