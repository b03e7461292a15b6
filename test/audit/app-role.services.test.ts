import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import pg from 'pg'
import { checkpointHash } from '../../src/modules/audit/chain.ts'
import { auditKey, canRewriteAuditLog } from '../../src/modules/audit/index.ts'
import { createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, type TestApp, unique } from '../helpers/app.ts'
import { runCli } from '../helpers/process.ts'
import { isolatedDatabase } from './support.ts'

// Services run only: privileges need a real PostgreSQL and a role that is not a
// superuser. Roles are cluster-wide, so this one has a name of its own (parallel runs
// never share it) and is dropped when the file ends.
const owner = await isolatedDatabase()
const ownerUrl = owner.DATABASE_URL!
const role = unique('inkwell_app_t')
const password = unique('pw')
const appUrl = (() => {
  const url = new URL(ownerUrl)
  url.username = role
  url.password = password
  return url.toString()
})()

const admin = new pg.Client({ connectionString: ownerUrl })
await admin.connect()
await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${password}'`)
const asApp = new pg.Client({ connectionString: appUrl })
await asApp.connect()
// The isolated database is dropped WITH (FORCE) when the file ends, maybe before these close.
for (const client of [admin, asApp]) client.on('error', () => {})

const cliEnv = (extra: Record<string, string> = {}) => ({
  ...process.env,
  NODE_ENV: 'test' as const,
  LOG_LEVEL: 'warn',
  DATABASE_URL: ownerUrl,
  DATABASE_DIRECT_URL: ownerUrl,
  DATABASE_APP_ROLE: role,
  ...extra,
})

after(async () => {
  await asApp.end().catch(() => {})
  // The run's database, not the isolated one: that one may already be dropped.
  const cluster = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await cluster.connect()
  try {
    await cluster.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role])
    // Its privileges live in the isolated database; revoke them if it still exists.
    await admin.query(`DROP OWNED BY ${role}`).catch(() => {})
    await cluster.query(`DROP ROLE IF EXISTS ${role}`)
  } finally {
    await admin.end().catch(() => {})
    await cluster.end()
  }
})

/** Runs `text` as the application role; returns the error it fails with, if any. */
async function refusal(text: string): Promise<{ code: string; message: string } | undefined> {
  try {
    await asApp.query(text)
    return undefined
  } catch (err) {
    return err as { code: string; message: string }
  }
}

async function assertNoPrivilege(text: string) {
  const err = await refusal(text)
  assert.ok(err, `${text} should have been refused`)
  assert.equal(err.code, '42501', `${text}: ${err.message}`)
  // Refused by privileges, before any trigger runs (the trigger's message is "append-only").
  assert.match(err.message, /permission denied|must be owner/, `${text}: ${err.message}`)
}

const privileges = async (table: string) => {
  const { rows } = await admin.query(
    `SELECT p FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) AS p
     WHERE has_table_privilege($1, $2, p) ORDER BY p`,
    [role, table],
  )
  return rows.map((r) => r.p as string).join(',')
}

describe('the application role', () => {
  test('starts with no privilege; `inkwell migrate` grants them once the role exists', async () => {
    await assertNoPrivilege('SELECT 1 FROM stories')
    // The schema was migrated before the role existed: a re-run applies the grants.
    const migrated = runCli(['migrate'], cliEnv())
    assert.equal(migrated.status, 0, migrated.stderr)
    assert.match(migrated.stdout, /database is up to date/)
    assert.equal(await privileges('audit_log'), 'INSERT,SELECT')
    assert.equal(await privileges('audit_checkpoints'), 'INSERT,SELECT')
    assert.equal(await privileges('schema_migrations'), 'SELECT')
    for (const table of ['stories', 'profiles', 'story_likes', 'job_outbox', 'counter_batches'])
      assert.equal(await privileges(table), 'DELETE,INSERT,SELECT,UPDATE', table)
  })

  test('`inkwell db grant` restores drifted grants and refuses an unknown role', async () => {
    await admin.query(`GRANT UPDATE, TRUNCATE ON audit_log TO ${role}; REVOKE ALL ON stories FROM ${role}`)
    const granted = runCli(['db', 'grant'], cliEnv())
    assert.equal(granted.status, 0, granted.stderr)
    assert.match(granted.stdout, new RegExp(`granted the application privileges to ${role}`))
    assert.equal(await privileges('audit_log'), 'INSERT,SELECT')
    assert.equal(await privileges('stories'), 'DELETE,INSERT,SELECT,UPDATE')
    const unknown = runCli(['db', 'grant', '--role', unique('nobody')], cliEnv())
    assert.equal(unknown.status, 1)
    assert.match(unknown.stderr, /does not exist/)
  })

  test('may insert and read audit rows, and nothing else on the audit tables', async () => {
    const action = `test.${unique('role')}`
    const inserted = await asApp.query(
      `INSERT INTO audit_log (actor_type, action, outcome) VALUES ('system', $1, 'success') RETURNING id`,
      [action],
    )
    const id = inserted.rows[0].id as string
    const read = await asApp.query('SELECT action FROM audit_log WHERE id = $1', [id])
    assert.equal(read.rows[0].action, action)

    await assertNoPrivilege(`UPDATE audit_log SET action = 'test.forged' WHERE id = ${id}`)
    await assertNoPrivilege(`DELETE FROM audit_log WHERE id = ${id}`)
    await assertNoPrivilege('TRUNCATE audit_log')
    await assertNoPrivilege('UPDATE audit_checkpoints SET purged_rows = 0')
    await assertNoPrivilege('DELETE FROM audit_checkpoints')
    await assertNoPrivilege('TRUNCATE audit_checkpoints')
    // The maintenance setting the trigger honours gives no privilege.
    await assertNoPrivilege(
      `BEGIN; SELECT set_config('inkwell.audit_maintenance', 'seal', true);
       UPDATE audit_log SET seq = 1, prev_hash = 'x', hash = 'y' WHERE id = ${id}`,
    )
    await asApp.query('ROLLBACK')
    // Nor can it switch the guard off or change the schema.
    await assertNoPrivilege('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only')
    await assertNoPrivilege('DROP TRIGGER audit_log_append_only ON audit_log')
    await assertNoPrivilege(
      `CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$`,
    )
    await assertNoPrivilege(`INSERT INTO schema_migrations (version, checksum) VALUES ('9999_x', 'x')`)
    await assertNoPrivilege('TRUNCATE stories')
    // The trigger still stands behind INSERT: a row cannot arrive pre-sealed.
    const sealed = await refusal(
      `INSERT INTO audit_log (actor_type, action, outcome, seq, prev_hash, hash)
       VALUES ('system', 'test.forged', 'success', 999999, 'x', 'y')`,
    )
    assert.equal(sealed?.code, '42501')
    assert.match(sealed.message, /inserted unsealed/)
    // Purging goes through the checkpoint-checking function only.
    const purge = await refusal('SELECT audit_log_purge(999999)')
    assert.match(purge?.message ?? '', /no audit checkpoint covers/)
  })

  test('the app connected as the role does its normal work; the sealer seals, the purge purges', async () => {
    const t: TestApp = await buildTestApp({
      DATABASE_URL: appUrl,
      DATABASE_DIRECT_URL: ownerUrl,
      DATABASE_APP_ROLE: role,
    })
    const { ctx } = t.platform
    const who = await asApp.query('SELECT current_user AS name')
    assert.equal(who.rows[0].name, role)
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
    // What the start-up warning checks: this role cannot rewrite the log, the owner can.
    assert.equal(await canRewriteAuditLog(ctx.db), false)
    const asOwner = await buildTestApp({ DATABASE_URL: ownerUrl })
    assert.equal(await canRewriteAuditLog(asOwner.platform.ctx.db), true)
    await asOwner.app.close()

    const author = await createUser(t, unique('role_author'))
    const reader = await createUser(t, unique('role_reader'))
    const story = await publishStory(t.app, author.headers, { body: 'written by the app role' })
    const edited = await t.app.inject({
      method: 'PATCH',
      url: `/v1/stories/${story.id}`,
      headers: author.headers,
      payload: { title: 'Edited' },
    })
    assert.equal(edited.statusCode, 200, edited.body)
    const liked = await t.app.inject({
      method: 'PUT',
      url: `/v1/stories/${story.id}/like`,
      headers: reader.headers,
    })
    assert.ok(liked.statusCode < 300, liked.body)
    assert.equal(
      (await t.app.inject({ method: 'GET', url: `/v1/stories/${story.id}`, headers: reader.headers }))
        .statusCode,
      200,
    )
    const idempotent = await t.app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: { ...author.headers, 'idempotency-key': unique('key') },
      payload: { title: 'Draft', body: 'to delete', tags: [] },
    })
    assert.equal(idempotent.statusCode, 201, idempotent.body)
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `/v1/stories/${idempotent.json().id}`,
      headers: author.headers,
    })
    assert.ok(deleted.statusCode < 300, deleted.body)
    // Every job that touches the database, as this role.
    for (const job of [
      'stories.process',
      'stories.flush-views',
      'trending.recompute',
      'idempotency.purge-expired',
      'audit.flush-aggregates',
    ])
      await ctx.jobs.runNow(job, job === 'stories.process' ? { storyId: story.id } : undefined)
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/trending' })).statusCode, 200)

    const written = await admin.query(`SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id`, [
      story.id,
    ])
    assert.deepEqual(
      written.rows.map((r) => r.action),
      ['story.created', 'story.published', 'story.updated'],
    )
    await ctx.jobs.runNow('audit.seal')
    const unsealed = await admin.query('SELECT count(*)::int AS n FROM audit_log WHERE seq IS NULL')
    assert.equal(unsealed.rows[0].n, 0, 'the sealer, as the app role, sealed every row')
    await ctx.jobs.runNow('audit.purge')

    // A retention purge as the app role (what `audit.purge` does once rows are old enough):
    // a checkpoint anchoring the first two rows, then the checkpoint-checking function.
    const head = await asApp.query('SELECT hash FROM audit_log WHERE seq = 2')
    const checkpoint = { throughSeq: 2, anchorHash: head.rows[0].hash as string, purgedRows: 2 }
    await asApp.query(
      `INSERT INTO audit_checkpoints (through_seq, anchor_hash, purged_rows, hash) VALUES ($1, $2, $3, $4)`,
      [2, checkpoint.anchorHash, 2, checkpointHash(auditKey(ctx.config), checkpoint)],
    )
    const purged = await asApp.query('SELECT audit_log_purge(2)::int AS n')
    assert.equal(purged.rows[0].n, 2)
    const verified = runCli(['audit', 'verify'], cliEnv({ DATABASE_URL: appUrl, DATA_DIR: t.dataDir }))
    assert.equal(verified.status, 0, verified.stdout + verified.stderr)
    assert.match(verified.stdout, /audit chain OK: \d+ sealed rows verified from checkpoint at seq 2/)
  })
})
