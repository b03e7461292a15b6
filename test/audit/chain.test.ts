import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import { auditKey, purgeExpired, sealPending, verifyChain } from '../../src/modules/audit/index.ts'
import { createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp as buildApp, type TestApp, unique } from '../helpers/app.ts'
import { runCli } from '../helpers/process.ts'
import { asOperator, auditRows, isolatedDatabase } from './support.ts'

const silent = { info() {} } as never

/** The periodic sealer stays out of the way: each test seals when it means to. */
const buildTestApp = async (overrides: Record<string, string> = {}) =>
  buildApp({
    AUDIT_SEAL_INTERVAL_MS: '60000',
    ...(overrides.DATABASE_URL ? {} : await isolatedDatabase()),
    ...overrides,
  })

async function withEvents(t: TestApp, n: number) {
  const { headers } = await createUser(t, unique('u'))
  for (let i = 0; i < n; i++) await publishStory(t.app, headers)
}

const key = (t: TestApp) => auditKey(t.platform.ctx.config)
const verify = (t: TestApp) => verifyChain(t.platform.ctx.db, key(t))
const seal = (t: TestApp) => t.platform.ctx.jobs.runNow('audit.seal')

/** What an attacker with superuser SQL can do: bypass every trigger. */
const tamper = (t: TestApp, statement: string) =>
  asOperator(t, `SET LOCAL session_replication_role = replica; ${statement}`)

describe('hash chain', () => {
  test('the sealer chains every committed row in order and verify accepts it', async () => {
    const t = await buildTestApp()
    await withEvents(t, 2)
    await seal(t)
    const rows = await auditRows(t)
    assert.ok(rows.length >= 5)
    assert.deepEqual(
      rows.map((r) => r.seq).sort((a, b) => a! - b!),
      rows.map((_, i) => i + 1),
    )
    const result = await verify(t)
    assert.equal(result.ok, true, JSON.stringify(result))
    assert.equal(result.checked, rows.length)
    assert.equal(result.unsealed, 0)
  })

  test('sealing twice, or from two callers at once, seals each row once', async () => {
    const t = await buildTestApp()
    await withEvents(t, 1)
    const rows = await auditRows(t)
    const counts = await Promise.all([
      sealPending(t.platform.ctx.db, key(t)),
      sealPending(t.platform.ctx.db, key(t)),
    ])
    assert.equal(counts[0] + counts[1], rows.length)
    assert.equal(await sealPending(t.platform.ctx.db, key(t)), 0)
    const sealed = await auditRows(t)
    assert.deepEqual(
      sealed.map((r) => r.seq).sort((a, b) => a! - b!),
      rows.map((_, i) => i + 1),
    )
    assert.equal((await verify(t)).ok, true)
  })

  test('verify names a row edited directly in SQL', async () => {
    const t = await buildTestApp()
    await withEvents(t, 2)
    await seal(t)
    const victim = (await auditRows(t, sql`action = 'story.published'`))[0]!
    await tamper(t, `UPDATE audit_log SET details = '{"edited":true}' WHERE id = ${victim.id}`)
    const result = await verify(t)
    assert.equal(result.ok, false)
    assert.deepEqual(result.broken, { seq: victim.seq, id: victim.id, reason: 'hash_mismatch' })
  })

  test('verify names a row deleted directly in SQL', async () => {
    const t = await buildTestApp()
    await withEvents(t, 2)
    await seal(t)
    const victim = (await auditRows(t, sql`action = 'story.created'`))[0]!
    await tamper(t, `DELETE FROM audit_log WHERE id = ${victim.id}`)
    const result = await verify(t)
    assert.equal(result.ok, false)
    assert.deepEqual(result.broken, { seq: victim.seq, id: null, reason: 'row_missing' })
  })

  test('`inkwell audit verify` exits 0 on a sound chain and 1 naming the broken link', async () => {
    const database = await isolatedDatabase()
    const t = await buildTestApp(database)
    await withEvents(t, 1)
    await seal(t)
    const victim = (await auditRows(t, sql`action = 'story.published'`))[0]!
    const env = { ...process.env, ...database, DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' }
    await t.app.close()
    const ok = runCli(['audit', 'verify'], env)
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
    assert.match(ok.stdout, /audit chain OK/)
    const reopened = await buildApp({ ...database, DATA_DIR: t.dataDir, AUDIT_SEAL_INTERVAL_MS: '60000' })
    await tamper(reopened, `UPDATE audit_log SET actor_subject = 'someone-else' WHERE id = ${victim.id}`)
    await reopened.app.close()
    const broken = runCli(['audit', 'verify'], env)
    assert.equal(broken.status, 1, broken.stdout + broken.stderr)
    assert.match(
      broken.stdout,
      new RegExp(`BROKEN at seq ${victim.seq} \\(row id ${victim.id}\\): hash_mismatch`),
    )
  })
})

describe('append-only enforcement', () => {
  test('UPDATE, DELETE and TRUNCATE are refused, sealed or not', async () => {
    const t = await buildTestApp()
    await withEvents(t, 1)
    const [unsealed] = await auditRows(t)
    await assert.rejects(
      asOperator(t, `UPDATE audit_log SET action = 'x.y' WHERE id = ${unsealed!.id}`),
      /append-only/,
    )
    await seal(t)
    await assert.rejects(
      asOperator(t, `UPDATE audit_log SET outcome = 'denied' WHERE id = ${unsealed!.id}`),
      /append-only/,
    )
    await assert.rejects(asOperator(t, `DELETE FROM audit_log WHERE id = ${unsealed!.id}`), /append-only/)
    await assert.rejects(asOperator(t, 'TRUNCATE audit_log'), /append-only/)
    await assert.rejects(asOperator(t, 'DELETE FROM audit_checkpoints'), /append-only/)
    assert.equal((await verify(t)).ok, true)
  })

  test('the maintenance setting allows sealing only, never a content change', async () => {
    const t = await buildTestApp()
    await withEvents(t, 1)
    const [row] = await auditRows(t)
    await assert.rejects(
      asOperator(
        t,
        `SET LOCAL inkwell.audit_maintenance = 'seal'; UPDATE audit_log SET action = 'x.y' WHERE id = ${row!.id}`,
      ),
      /append-only/,
    )
    await assert.rejects(
      asOperator(
        t,
        `SET LOCAL inkwell.audit_maintenance = 'purge'; DELETE FROM audit_log WHERE id = ${row!.id}`,
      ),
      /append-only/,
      'an unsealed row is never purged',
    )
  })

  test('a row cannot be inserted already sealed, and purging needs a checkpoint', async () => {
    const t = await buildTestApp()
    await assert.rejects(
      asOperator(
        t,
        `INSERT INTO audit_log (actor_type, action, outcome, seq, prev_hash, hash)
        VALUES ('system', 'forged.row', 'success', 999, 'x', 'y')`,
      ),
      /inserted unsealed/,
    )
    await assert.rejects(asOperator(t, 'SELECT audit_log_purge(1000)'), /no audit checkpoint/)
  })
})

describe('retention', () => {
  const insertOld = (t: TestApp, days: number, n: number) =>
    asOperator(
      t,
      `INSERT INTO audit_log (occurred_at, actor_type, action, outcome)
       SELECT now() - make_interval(days => ${days}), 'system', 'test.old', 'success' FROM generate_series(1, ${n})`,
    )

  test('the purge removes expired rows behind a checkpoint, and the rest still verifies', async () => {
    const t = await buildTestApp({ AUDIT_RETENTION_DAYS: '30' })
    // Unsealed, so removing it leaves no trace: the old rows become the head of the chain.
    await tamper(t, `DELETE FROM audit_log WHERE action = 'config.loaded'`)
    await insertOld(t, 40, 3)
    await withEvents(t, 1)
    await seal(t)
    const before = await auditRows(t)
    assert.equal(await purgeExpired(t.platform.ctx.db, key(t), 30, t.platform.ctx.log), 3)
    const after = await auditRows(t)
    assert.equal(after.length, before.length - 3)
    assert.ok(after.every((r) => r.action !== 'test.old'))
    const result = await verify(t)
    assert.equal(result.ok, true, JSON.stringify(result))
    assert.equal(result.fromCheckpoint, 3)
    assert.equal(await purgeExpired(t.platform.ctx.db, key(t), 30, t.platform.ctx.log), 0, 'idempotent')
    // A deletion right after the checkpoint is still caught.
    await tamper(t, `DELETE FROM audit_log WHERE seq = 4`)
    assert.deepEqual((await verify(t)).broken, { seq: 4, id: null, reason: 'row_missing' })
  })

  test('rows within retention are never purged, even behind an expired row', async () => {
    const t = await buildTestApp()
    await insertOld(t, 400, 2)
    await seal(t)
    // config.loaded (recent) is first in the chain, so nothing can go yet.
    assert.equal(await purgeExpired(t.platform.ctx.db, key(t), 365, silent), 0)
    assert.equal((await auditRows(t, sql`action = 'test.old'`)).length, 2)
  })

  test('after purging everything, new rows chain from the checkpoint', async () => {
    const t = await buildTestApp()
    await insertOld(t, 400, 2)
    await tamper(t, `DELETE FROM audit_log WHERE action <> 'test.old'`)
    await seal(t)
    await t.platform.ctx.jobs.runNow('audit.purge')
    assert.equal((await auditRows(t)).length, 0)
    await withEvents(t, 1)
    await seal(t)
    const result = await verify(t)
    assert.equal(result.ok, true, JSON.stringify(result))
    assert.equal(result.fromCheckpoint, 2)
    assert.ok(result.checked > 0)
  })

  test('a forged checkpoint is caught', async () => {
    const t = await buildTestApp()
    await tamper(t, `DELETE FROM audit_log WHERE action = 'config.loaded'`)
    await insertOld(t, 400, 2)
    await seal(t)
    assert.equal(await purgeExpired(t.platform.ctx.db, key(t), 365, silent), 2)
    await tamper(t, `UPDATE audit_checkpoints SET through_seq = 1`)
    assert.equal((await verify(t)).broken?.reason, 'checkpoint_invalid')
  })
})
