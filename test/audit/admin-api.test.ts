import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { assertProblem, createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, unique } from '../helpers/app.ts'

describe('GET /v1/admin/audit-log', async () => {
  const t = await buildTestApp()
  const admin = await createUser(t, unique('admin'), ['admin'])
  const author = await createUser(t, unique('author'))
  const stories = [await publishStory(t.app, author.headers), await publishStory(t.app, author.headers)]
  const read = (query: string) =>
    t.app.inject({ method: 'GET', url: `/v1/admin/audit-log?${query}`, headers: admin.headers })

  test('filters by actor and exact action', async () => {
    const res = await read(`actor=${author.profile.id}&action=story.published`)
    assert.equal(res.statusCode, 200, res.body)
    const { items } = res.json()
    assert.deepEqual(
      items.map((i: { target: { id: string } }) => i.target.id),
      stories.map((s) => s.id).reverse(),
    )
    for (const item of items) {
      assert.equal(item.actor.profileId, author.profile.id)
      assert.equal(item.actor.subject, `sub-${author.profile.username}`)
      assert.equal(item.outcome, 'success')
      assert.equal(typeof item.requestId, 'string')
    }
  })

  test('filters by action prefix, target and time range', async () => {
    const story = stories[0]!
    const res = await read(`action=story.*&targetType=story&targetId=${story.id}`)
    assert.deepEqual(
      res
        .json()
        .items.map((i: { action: string }) => i.action)
        .sort(),
      ['story.created', 'story.published'],
    )
    const future = new Date(Date.now() + 3_600_000).toISOString()
    assert.deepEqual((await read(`from=${encodeURIComponent(future)}`)).json().items, [])
    const past = new Date(Date.now() - 3_600_000).toISOString()
    assert.ok(
      (await read(`to=${encodeURIComponent(future)}&from=${encodeURIComponent(past)}`)).json().items.length >
        0,
    )
    const system = (await read('actor=system')).json().items
    assert.ok(system.some((i: { action: string }) => i.action === 'config.loaded'))
  })

  test('keyset pages walk every row once, newest first', async () => {
    const seen: number[] = []
    let cursor: string | null = null
    do {
      const res = await read(`limit=2&actor=${author.profile.id}${cursor ? `&cursor=${cursor}` : ''}`)
      assert.equal(res.statusCode, 200, res.body)
      const body = res.json()
      seen.push(...body.items.map((i: { id: string }) => Number(i.id)))
      cursor = body.nextCursor
    } while (cursor)
    assert.ok(seen.length >= 5)
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => b - a),
    )
    assert.equal(new Set(seen).size, seen.length)
  })

  test('a forged cursor is refused', async () => {
    assertProblem(await read('cursor=eyJpZCI6MX0.forged'), 400, 'invalid_cursor')
  })

  test('anonymous callers get 401, other users 403', async () => {
    assertProblem(await t.app.inject({ method: 'GET', url: '/v1/admin/audit-log' }), 401, 'unauthenticated')
    const res = await t.app.inject({ method: 'GET', url: '/v1/admin/audit-log', headers: author.headers })
    assertProblem(res, 403, 'forbidden')
  })

  test('each read is itself audited with its filters', async () => {
    await read('action=story.deleted')
    const res = await read(`action=admin.audit_log.read&actor=${admin.profile.id}&limit=1`)
    const [last] = res.json().items
    assert.equal(last.details.filters.action, 'story.deleted')
    assert.equal(last.target.type, 'audit_log')
  })
})
