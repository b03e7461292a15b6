import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import { inAuditedTransaction, SYSTEM } from '../../src/modules/audit/index.ts'
import { createStory, createUser } from '../helpers/api.ts'
import { buildTestApp, unique } from '../helpers/app.ts'
import { auditRows, rowsOfRequest } from './support.ts'

const AUDIT_INSERT = /insert into "audit_log"/i

describe('an audit row commits with its operation or not at all', async () => {
  const t = await buildTestApp()
  const { database } = t.platform.ctx

  test('a statement failing after the audit insert leaves no success row and no story', async () => {
    const { headers } = await createUser(t, unique('u'))
    const title = unique('atomic')
    let auditInserted = false
    database.setStatementHook((text) => {
      if (AUDIT_INSERT.test(text)) auditInserted = true
      // The idempotency record is written after the operation (and its audit row).
      else if (auditInserted && /update idempotency_keys/i.test(text)) throw new Error('injected failure')
    })
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/stories',
        headers: { ...headers, 'idempotency-key': unique('k') },
        payload: { title, body: 'b', tags: [] },
      })
      assert.equal(res.statusCode, 500, res.body)
      assert.equal(auditInserted, true, 'the audit row was inserted before the failure')
      assert.deepEqual(await rowsOfRequest(t, res), [])
    } finally {
      database.setStatementHook(null)
    }
    const stories = (await t.platform.ctx.db.execute(
      sql`SELECT id FROM stories WHERE title = ${title}`,
    )) as unknown as {
      rows: unknown[]
    }
    assert.equal(stories.rows.length, 0)
  })

  test('a failing audit insert aborts the operation it audits', async () => {
    const { headers } = await createUser(t, unique('u'))
    const story = await createStory(t.app, headers)
    database.setStatementHook((text) => {
      if (AUDIT_INSERT.test(text)) throw new Error('audit store down')
    })
    try {
      const res = await t.app.inject({ method: 'POST', url: `/v1/stories/${story.id}/publish`, headers })
      assert.equal(res.statusCode, 500, res.body)
    } finally {
      database.setStatementHook(null)
    }
    const res = await t.app.inject({ method: 'GET', url: `/v1/stories/${story.id}`, headers })
    assert.equal(res.json().status, 'draft', 'an operation that cannot be audited does not happen')
  })

  test('log lines are shipped only after the commit', async () => {
    const lines: Record<string, unknown>[] = []
    const log = { info: (line: Record<string, unknown>) => lines.push(line) } as never
    const action = `test.${unique('rollback')}`
    await assert.rejects(
      inAuditedTransaction({ db: t.platform.ctx.db, log }, async (_tx, record) => {
        await record({ action, actor: SYSTEM })
        throw new Error('abort')
      }),
      /abort/,
    )
    assert.equal(lines.length, 0)
    assert.deepEqual(await auditRows(t, sql`action = ${action}`), [])
    await inAuditedTransaction({ db: t.platform.ctx.db, log }, (_tx, record) =>
      record({ action, actor: SYSTEM }),
    )
    assert.equal(lines.length, 1)
    assert.equal(lines[0]!.audit, true)
    assert.equal(lines[0]!.action, action)
    assert.equal((await auditRows(t, sql`action = ${action}`)).length, 1)
  })
})
