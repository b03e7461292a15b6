import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import { buildTestApp } from '../helpers/app.ts'
import { asOperator, auditRows, isolatedDatabase } from './support.ts'

describe('aggregated attack signals', async () => {
  const t = await buildTestApp({ TRUST_PROXY: '127.0.0.1' }, (app) => {
    app.get('/test/limited', async (_request, reply) => reply.code(429).send({ code: 'rate_limited' }))
  })

  test('refused tokens from one source: one row at once, one summary per window', async () => {
    const ip = '203.0.113.7'
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `Bearer forged.${i}.token`, 'x-forwarded-for': ip },
      })
      assert.equal(res.statusCode, 401)
    }
    const first = await auditRows(t, sql`action = 'auth.failed' AND client_ip = ${ip}`)
    assert.equal(first.length, 1)
    assert.equal(first[0]!.details.count, 1)
    assert.equal(first[0]!.outcome, 'failed')
    assert.equal(first[0]!.actor_subject, null, 'nothing from a refused token is stored')
    await t.platform.ctx.jobs.runNow('audit.flush-aggregates')
    const rows = await auditRows(t, sql`action = 'auth.failed' AND client_ip = ${ip}`)
    assert.equal(rows.length, 2)
    assert.equal(rows[1]!.details.count, 4)
    assert.equal(rows[1]!.details.aggregated, true)
    assert.doesNotMatch(JSON.stringify(rows), /forged/)
  })

  test('a 429 from any rate limiter is recorded as ratelimit.blocked', async () => {
    const ip = '203.0.113.9'
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/test/limited',
        headers: { 'x-forwarded-for': ip },
      })
      assert.equal(res.statusCode, 429)
    }
    await t.platform.ctx.jobs.runNow('audit.flush-aggregates')
    const rows = await auditRows(t, sql`action = 'ratelimit.blocked' AND client_ip = ${ip}`)
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.details.count, r.details.reason]),
      [
        ['denied', 1, '/test/limited'],
        ['denied', 2, '/test/limited'],
      ],
    )
  })

  test('recordAggregated is open to other components', async () => {
    const ip = '198.51.100.1'
    await t.app.audit.recordAggregated({
      action: 'ratelimit.blocked',
      outcome: 'denied',
      clientIp: ip,
      reason: 'per_user',
    })
    await t.app.audit.recordAggregated({
      action: 'ratelimit.blocked',
      outcome: 'denied',
      clientIp: ip,
      reason: 'per_user',
    })
    assert.equal((await auditRows(t, sql`client_ip = ${ip}`)).length, 1)
  })
})

describe('startup and alert signals', async () => {
  // A log of its own, and the periodic sealer out of the way: the test seals when it means to.
  const t = await buildTestApp({ AUDIT_SEAL_INTERVAL_MS: '60000', ...(await isolatedDatabase()) })

  test('config.loaded names the provider and profile, never a value', async () => {
    const [row] = await auditRows(t, sql`action = 'config.loaded'`)
    assert.equal(row?.actor_type, 'system')
    assert.deepEqual(Object.keys(row!.details).sort(), ['cache', 'database', 'profile', 'secretsProvider'])
    assert.equal(row!.details.secretsProvider, 'env')
    assert.equal(row!.details.profile, 'test')
    assert.doesNotMatch(JSON.stringify(row), new RegExp(t.platform.ctx.config.SECRET_KEY!))
  })

  test('an unsealed row older than a minute raises the overdue gauge until sealed', async () => {
    const gauge = async () => {
      const res = await t.app.inject({ method: 'GET', url: '/metrics' })
      return /^inkwell_audit_unsealed_overdue (\d+)$/m.exec(res.body)?.[1]
    }
    await t.platform.ctx.jobs.runNow('audit.seal')
    assert.equal(await gauge(), '0')
    await asOperator(
      t,
      `INSERT INTO audit_log (occurred_at, actor_type, action, outcome) VALUES (now() - interval '2 minutes', 'system', 'test.stale', 'success')`,
    )
    assert.equal(await gauge(), '1')
    const res = await t.app.inject({ method: 'GET', url: '/metrics' })
    assert.match(res.body, /^inkwell_audit_unsealed_rows 1$/m)
    await t.platform.ctx.jobs.runNow('audit.seal')
    assert.equal(await gauge(), '0')
  })
})
