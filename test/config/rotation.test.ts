import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import pg from 'pg'
import pino from 'pino'
import { loadConfig } from '../../src/config/load.ts'
import {
  databasePassword,
  REFUSED_REFETCH_COOLDOWN_MS,
  type RotatingPassword,
} from '../../src/config/secrets/database-password.ts'
import { createSecretStore, type SecretStore } from '../../src/config/secrets/index.ts'
import { type Database, openDatabase } from '../../src/platform/db/database.ts'
import { captureLog, manualClock, NO_DOTENV } from './support/env.ts'
import { matchesScramVerifier, startPasswordGate } from './support/pg-password-gate.ts'
import { startVaultStandIn } from './support/vault-stand-in.ts'

const TTL_MS = 60_000
const vault = await startVaultStandIn()
after(() => vault.close())

async function vaultStore() {
  const clock = manualClock()
  const config = vault.settings({ SECRETS_CACHE_TTL_S: TTL_MS / 1000, SECRETS_STARTUP_ATTEMPTS: 1 })
  const store = createSecretStore(config, { now: clock.read, log: captureLog().log })
  after(() => store.close())
  await store.load()
  return { store, clock }
}

describe('database password rotation', () => {
  test('the pool password function follows the secrets manager within the TTL', async () => {
    const startupUrl = 'postgres://inkwell:p%40ss-1@db.internal/inkwell'
    vault.put({ DATABASE_URL: startupUrl })
    const { store, clock } = await vaultStore()
    const password = databasePassword(store, startupUrl)
    assert.equal(await password(), 'p@ss-1')
    vault.put({ DATABASE_URL: 'postgres://inkwell:p%40ss-2@db.internal/inkwell' })
    assert.equal(await password(), 'p@ss-1', 'cached within the TTL')
    clock.advance(TTL_MS)
    assert.equal(await password(), 'p@ss-2')
  })

  test('a refused password refetches at once, at most once per cooldown', async () => {
    const startupUrl = 'postgres://inkwell:old@db.internal/inkwell'
    vault.put({ DATABASE_URL: startupUrl })
    const { store, clock } = await vaultStore()
    const password = databasePassword(store, startupUrl, clock.read)
    assert.equal(await password(), 'old')
    vault.put({ DATABASE_URL: 'postgres://inkwell:new@db.internal/inkwell' })
    const reads = vault.log.reads
    password.refused()
    password.refused()
    assert.equal(await password(), 'new', 'the new password, long before the TTL lapses')
    assert.equal(vault.log.reads, reads + 1, 'one fetch for two refusals')

    vault.put({ DATABASE_URL: 'postgres://inkwell:newer@db.internal/inkwell' })
    clock.advance(REFUSED_REFETCH_COOLDOWN_MS - 1)
    password.refused()
    assert.equal(await password(), 'new', 'within the cooldown, no fetch')
    assert.equal(vault.log.reads, reads + 1)
    clock.advance(1)
    password.refused()
    assert.equal(await password(), 'newer')
    assert.equal(vault.log.reads, reads + 2)
  })

  test('a refetch that fails keeps the password in use', async () => {
    const startupUrl = 'postgres://inkwell:kept@db.internal/inkwell'
    vault.put({ DATABASE_URL: startupUrl })
    const { store, clock } = await vaultStore()
    const password = databasePassword(store, startupUrl, clock.read)
    vault.control.sealed = true
    try {
      password.refused()
      assert.equal(await password(), 'kept')
    } finally {
      vault.control.sealed = false
    }
  })

  test('without DATABASE_URL in the provider, the startup password stays', async () => {
    vault.put({ SECRET_KEY: 'x' })
    const { store } = await vaultStore()
    assert.equal(await databasePassword(store, 'postgres://u:fixed@db/x')(), 'fixed')
  })
})

// Straight to PostgreSQL: a role made here is unknown to a pgbouncer in front (its own
// auth_file or auth_query owns that side, see docs/secrets.md).
const adminUrl = process.env.DATABASE_DIRECT_URL ?? process.env.DATABASE_URL

interface RotatingRole {
  role: string
  /** The role's password now, and the one the rotation sets. */
  pw1: string
  pw2: string
  url(password: string): string
  admin: pg.Client
  /** Set when a password-checking front door stands before a trusting server. */
  attempts: Array<{ user: string; ok: boolean }> | undefined
  /** The database opened as the role, its password from the vault stand-in's store. */
  open(password: (store: SecretStore, clock: ReturnType<typeof manualClock>) => RotatingPassword): Promise<{
    database: Database
    clock: ReturnType<typeof manualClock>
    whoami(): Promise<{ user: string; pid: number }>
  }>
}

/** A throwaway login role on the real PostgreSQL, dropped (with its pool) after `fn`. */
async function withRotatingRole(fn: (r: RotatingRole) => Promise<void>): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  const role = `inkwell_rotation_${randomBytes(4).toString('hex')}`
  const [pw1, pw2] = [randomBytes(12).toString('hex'), randomBytes(12).toString('hex')]
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${pw1}'`)
  const server = new URL(adminUrl!)
  const upstream = { host: server.hostname, port: Number(server.port || 5432) }
  const gate = await passwordCheckedEndpoint(admin, role, upstream)
  const url = (password: string) =>
    `postgres://${role}:${password}@${gate.host}:${gate.port}${server.pathname}`
  let database: Database | undefined
  try {
    await fn({
      role,
      pw1,
      pw2,
      url,
      admin,
      attempts: gate.attempts,
      async open(password) {
        vault.put({ DATABASE_URL: url(pw1) })
        const { store, clock } = await vaultStore()
        const { config } = loadConfig({ DB_POOL_MAX: '4' }, NO_DOTENV)
        const settings = { ...config, DATABASE_URL: url(pw1), databasePassword: password(store, clock) }
        database = await openDatabase(settings, pino({ level: 'silent' }))
        const db = database.db
        const whoami = async () => {
          const result = await db.execute(sql`select current_user as "user", pg_backend_pid() as pid`)
          return (result as unknown as { rows: Array<{ user: string; pid: number }> }).rows[0]!
        }
        return { database, clock, whoami }
      },
    })
  } finally {
    await database?.close()
    await gate.close()
    await admin.query(`DROP ROLE IF EXISTS ${role}`)
    await admin.end()
  }
}

// Needs a real PostgreSQL role: only in the services run (`npm run test:services`).
if (adminUrl?.startsWith('postgres')) {
  test('a real role rotated with ALTER ROLE: open connections keep working, new ones use the new password', () =>
    withRotatingRole(async ({ role, pw1, pw2, url, admin, attempts, open }) => {
      const { database, clock, whoami } = await open((store) => databasePassword(store, url(pw1)))
      const first = await whoami()
      assert.equal(first.user, role)

      // Rotation: the database first, then the secrets manager.
      await admin.query(`ALTER ROLE ${role} PASSWORD '${pw2}'`)
      vault.put({ DATABASE_URL: url(pw2) })
      clock.advance(TTL_MS)
      await assert.rejects(connectOnce(url(pw1)), /password authentication failed/)

      assert.equal((await whoami()).pid, first.pid, 'the open connection keeps working')
      // Hold the open connection, so the pool must open a new one with the current password.
      const second = await database.withScriptTransaction(async () => whoami())
      assert.equal(second.user, role)
      assert.notEqual(second.pid, first.pid, 'a new connection')
      if (attempts) assert.deepEqual(attempts.slice(-1), [{ user: role, ok: true }])
    }))

  test('a real role: the first refused password fetches the rotated one, without waiting for the TTL', () =>
    withRotatingRole(async ({ role, pw1, pw2, url, admin, attempts, open }) => {
      const { database, whoami } = await open((store, clock) => databasePassword(store, url(pw1), clock.read))
      const first = await whoami()

      // Rotated in PostgreSQL and in the secrets manager; the cache's TTL has not lapsed.
      await admin.query(`ALTER ROLE ${role} PASSWORD '${pw2}'`)
      vault.put({ DATABASE_URL: url(pw2) })
      const reads = vault.log.reads
      // Holding the open connection, a statement needs a new one: it presents the
      // cached password and is refused (a 503 `service_unavailable` for a request).
      await assert.rejects(
        database.withScriptTransaction(async () => whoami()),
        (err: { cause?: { code?: string } }) => err.cause?.code === '28P01',
      )
      assert.equal(vault.log.reads, reads + 1, 'the refusal fetched the secrets at once')
      const second = await database.withScriptTransaction(async () => whoami())
      assert.equal(second.user, role)
      assert.notEqual(second.pid, first.pid, 'a new connection, with the new password')
      if (attempts)
        assert.deepEqual(attempts.slice(-2), [
          { user: role, ok: false },
          { user: role, ok: true },
        ])
    }))
}

async function connectOnce(url: string) {
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * Where to connect so that passwords are checked. A server that trusts local
 * connections (the test machine's) accepts any password, which would let this test
 * pass without rotation working; then a front door checks each password against the
 * role's verifier in pg_authid, as PostgreSQL's scram-sha-256 method would.
 */
async function passwordCheckedEndpoint(
  admin: pg.Client,
  role: string,
  upstream: { host: string; port: number },
) {
  const wrong = `postgres://${role}:wrong@${upstream.host}:${upstream.port}/${admin.database}`
  const trusting = await connectOnce(wrong).then(
    () => true,
    () => false,
  )
  if (!trusting) return { ...upstream, attempts: undefined, close: async () => {} }
  const gate = await startPasswordGate(upstream, async (user, password) => {
    const { rows } = await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [user])
    return matchesScramVerifier(password, String(rows[0]?.rolpassword ?? ''))
  })
  return { host: '127.0.0.1', port: gate.port, attempts: gate.attempts, close: gate.close }
}
