import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { buildTestApp, type TestApp } from '../helpers/app.ts'

const onPostgres = Boolean(process.env.DATABASE_URL)

async function readyz(t: TestApp) {
  const res = await t.app.inject({ method: 'GET', url: '/readyz' })
  return { status: res.statusCode, body: res.json(), headers: res.headers }
}

/** Counts database pings, and can make them hang. */
function instrumentPing(t: TestApp) {
  const database = t.platform.ctx.database
  const original = database.ping.bind(database)
  const state = { calls: 0, hang: false }
  database.ping = async () => {
    state.calls++
    if (state.hang) return new Promise<void>(() => {})
    return original()
  }
  return state
}

/** A private database with every migration applied, which the test may then damage. */
async function privateMigratedDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await admin.connect()
  const name = `inkwell_ready_${randomBytes(4).toString('hex')}`
  await admin.query(`CREATE DATABASE "${name}"`)
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${name}`
  const drop = async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await admin.end()
  }
  const migrated = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate'], {
    env: { ...process.env, DATABASE_URL: url.toString(), DATABASE_DIRECT_URL: '', LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  })
  if (migrated.status !== 0) {
    await drop()
    assert.fail(`migrate failed: ${migrated.stderr}`)
  }
  return { url: url.toString(), drop }
}

describe('liveness', () => {
  test('/healthz answers without touching any dependency', async () => {
    const t = await buildTestApp()
    const pings = instrumentPing(t)
    await t.platform.ctx.database.close()
    const res = await t.app.inject({ method: 'GET', url: '/healthz' })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), { status: 'ok' })
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.equal(pings.calls, 0)
  })
})

describe('readiness', () => {
  test('lists every check with its status and latency', async () => {
    const t = await buildTestApp({ READY_CACHE_MS: '0' })
    // Redis (services run) may still be connecting: the cache is degraded until it is up.
    let probe = await readyz(t)
    for (let i = 0; i < 50 && probe.body.status === 'degraded'; i++) {
      await sleep(50)
      probe = await readyz(t)
    }
    const { status, body, headers } = probe
    assert.equal(status, 200, JSON.stringify(body))
    assert.equal(body.status, 'ready')
    assert.equal(headers['cache-control'], 'no-store')
    const names = Object.keys(body.checks).sort()
    assert.deepEqual(names, ['cache', 'database', 'disk_data', 'disk_tmp', 'migrations', 'shutdown'])
    for (const [name, check] of Object.entries(body.checks) as [
      string,
      { status: string; latencyMs: number },
    ][]) {
      assert.equal(check.status, 'ok', `${name}: ${JSON.stringify(check)}`)
      assert.ok(Number.isInteger(check.latencyMs) && check.latencyMs >= 0)
    }
  })

  test('is 503 at once when shutting down, without running the checks', async () => {
    const t = await buildTestApp({ READY_CACHE_MS: '0' })
    const pings = instrumentPing(t)
    t.app.lifecycle.shuttingDown = true
    const { status, body } = await readyz(t)
    assert.equal(status, 503)
    assert.equal(body.status, 'shutting_down')
    assert.equal(body.checks.shutdown.status, 'failed')
    assert.equal(pings.calls, 0)
    const res = await t.app.inject({ method: 'GET', url: '/healthz' })
    assert.equal(res.statusCode, 200, 'liveness must not fail during shutdown')
    assert.equal(res.headers.connection, 'close')
  })

  test('is 503 when the database is unreachable', async () => {
    const t = await buildTestApp({ READY_CACHE_MS: '0' })
    await t.platform.ctx.database.close()
    const { status, body } = await readyz(t)
    assert.equal(status, 503)
    assert.equal(body.status, 'not_ready')
    assert.equal(body.checks.database.status, 'failed')
    assert.ok(body.checks.database.error)
  })

  test('a hanging check fails at its own timeout', async () => {
    const t = await buildTestApp({ READY_CACHE_MS: '0', READY_CHECK_TIMEOUT_MS: '1000' })
    instrumentPing(t).hang = true
    const started = performance.now()
    const { status, body } = await readyz(t)
    assert.ok(performance.now() - started < 3000)
    assert.equal(status, 503)
    assert.equal(body.checks.database.status, 'failed')
    assert.match(body.checks.database.error, /timed out after 1000 ms/)
    assert.ok(body.checks.database.latencyMs >= 950)
    assert.equal(body.checks.disk_data.status, 'ok', 'other checks are not held up')
  })

  test('results are reused within READY_CACHE_MS, and concurrent probes share one run', async () => {
    const t = await buildTestApp({ READY_CACHE_MS: '60000' })
    const pings = instrumentPing(t)
    await Promise.all(Array.from({ length: 10 }, () => readyz(t)))
    for (let i = 0; i < 10; i++) await readyz(t)
    assert.equal(pings.calls, 1)
    // The shutting-down flag is never cached.
    t.app.lifecycle.shuttingDown = true
    assert.equal((await readyz(t)).status, 503)
  })

  test('without a cache window every probe checks again', async () => {
    const t = await buildTestApp({ READY_CACHE_MS: '0' })
    const pings = instrumentPing(t)
    for (let i = 0; i < 3; i++) await readyz(t)
    assert.equal(pings.calls, 3)
  })

  test('an unreachable cache is degraded, not failing', async () => {
    // Nothing listens on port 1; the Redis client fails its PING at once.
    const t = await buildTestApp({ READY_CACHE_MS: '0', REDIS_URL: 'redis://127.0.0.1:1' })
    const { status, body } = await readyz(t)
    assert.equal(status, 200, JSON.stringify(body))
    assert.equal(body.status, 'degraded')
    assert.equal(body.checks.cache.status, 'degraded')
    assert.equal(body.checks.database.status, 'ok')
  })

  test('too little free disk space fails the disk checks', async () => {
    const t = await buildTestApp({ READY_CACHE_MS: '0', READY_MIN_FREE_DISK_BYTES: String(2 ** 52) })
    const { status, body } = await readyz(t)
    assert.equal(status, 503)
    assert.equal(body.checks.disk_data.status, 'failed')
    assert.equal(body.checks.disk_tmp.status, 'failed')
    assert.match(body.checks.disk_data.error, /MiB free/)
  })
})

describe('readiness: migrations', () => {
  test('a migration missing from the database makes it not ready', async () => {
    // The services run's database is shared by every test file: damage a private one.
    const db = onPostgres ? await privateMigratedDatabase() : undefined
    const t = await buildTestApp({ READY_CACHE_MS: '0', ...(db ? { DATABASE_URL: db.url } : {}) })
    try {
      await t.platform.ctx.database.withScriptTransaction((run) =>
        run('DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)'),
      )
      const { status, body } = await readyz(t)
      assert.equal(status, 503)
      assert.equal(body.checks.migrations.status, 'failed')
      assert.match(body.checks.migrations.error, /not applied: \d{4}_/)
      assert.equal(body.checks.database.status, 'ok')
    } finally {
      await t.app.close()
      await db?.drop()
    }
  })
})
