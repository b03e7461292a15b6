import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import { assertProblem, createUser, publishStory } from '../../../test/helpers/api.ts'
import { buildTestApp, unique } from '../../../test/helpers/app.ts'
import { rowsOf } from '../../platform/db/rows.ts'

const t = await buildTestApp()
const { app } = t

describe('GET /v1/me', () => {
  test('creates the profile on the first authenticated request and returns it after', async () => {
    const headers = await t.auth(unique('sub'), { roles: ['reader'] })
    const first = await app.inject({ method: 'GET', url: '/v1/me', headers })
    assert.equal(first.statusCode, 200)
    const me = first.json()
    assert.match(me.username, /^user_[a-z0-9]{10}$/)
    assert.deepEqual(me.roles, ['reader'])
    assert.equal(me.publishedStoryCount, 0)
    const again = await app.inject({ method: 'GET', url: '/v1/me', headers })
    assert.equal(again.json().id, me.id)
  })

  test('a profile removed behind the service (a restore, a manual delete) is recreated, not served stale', async () => {
    const headers = await t.auth(unique('gone'))
    const first = (await app.inject({ method: 'GET', url: '/v1/me', headers })).json()
    await t.platform.ctx.db.execute(sql`DELETE FROM profiles WHERE id = ${first.id}`)
    // The cached id (local and shared) outlived its row: said once, then forgotten.
    assertProblem(await app.inject({ method: 'GET', url: '/v1/me', headers }), 404, 'profile_not_found')
    const again = await app.inject({ method: 'GET', url: '/v1/me', headers })
    assert.equal(again.statusCode, 200)
    assert.notEqual(again.json().id, first.id)
  })

  test('without a token is a 401 with WWW-Authenticate', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/me' })
    assertProblem(res, 401, 'unauthenticated')
    assert.match(String(res.headers['www-authenticate']), /^Bearer/)
  })

  test('50 concurrent first requests of one new subject create exactly one profile', async () => {
    const subject = unique('racer')
    const headers = await t.auth(subject)
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => app.inject({ method: 'GET', url: '/v1/me', headers })),
    )
    assert.ok(responses.every((r) => r.statusCode === 200))
    assert.equal(new Set(responses.map((r) => r.json().id)).size, 1)
    const [row] = await rowsOf<{ n: number }>(
      t.platform.ctx.db.execute(sql`SELECT count(*)::int AS n FROM profiles WHERE subject = ${subject}`),
    )
    assert.equal(row!.n, 1)
  })
})

describe('PATCH /v1/me', () => {
  test('updates username, display name, bio and avatar', async () => {
    const headers = await t.auth(unique('sub'))
    const username = unique('writer')
    const res = await app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers,
      payload: { username, displayName: 'Ada L.', bio: 'Writes.', avatarUrl: 'https://example.com/a.png' },
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().username, username)
    assert.equal(res.json().avatarUrl, 'https://example.com/a.png')
    const cleared = await app.inject({ method: 'PATCH', url: '/v1/me', headers, payload: { bio: null } })
    assert.equal(cleared.json().bio, null)
    assert.equal(cleared.json().displayName, 'Ada L.')
  })

  test('a taken username is a 409', async () => {
    const taken = unique('taken')
    await createUser(t, taken)
    const res = await app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: await t.auth(unique('sub')),
      payload: { username: taken },
    })
    assertProblem(res, 409, 'username_taken')
  })

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['too short username', { username: 'ab' }, 'body.username'],
    ['too long username', { username: 'a'.repeat(31) }, 'body.username'],
    ['username with capitals', { username: 'Alice' }, 'body.username'],
    ['reserved username', { username: 'admin' }, 'body.username'],
    ['reserved username me', { username: 'me' }, 'body.username'],
    ['reserved username api', { username: 'api' }, 'body.username'],
    ['bio over 500', { bio: 'x'.repeat(501) }, 'body.bio'],
    ['http avatar', { avatarUrl: 'http://example.com/a.png' }, 'body.avatarUrl'],
    ['javascript avatar', { avatarUrl: 'javascript:alert(1)' }, 'body.avatarUrl'],
    ['unknown field', { nickname: 'x' }, 'body.nickname'],
    ['role is not settable', { role: 'admin' }, 'body.role'],
    ['createdAt is not settable', { createdAt: '2020-01-01T00:00:00Z' }, 'body.createdAt'],
    ['display name with a newline', { displayName: 'a\nb' }, 'body.displayName'],
    ['wrong type', { bio: 42 }, 'body.bio'],
  ]
  for (const [name, payload, field] of invalid) {
    test(`refuses ${name} with a field error`, async () => {
      const res = await app.inject({
        method: 'PATCH',
        url: '/v1/me',
        headers: await t.auth(unique('sub')),
        payload,
      })
      const body = assertProblem(res, 400, 'validation_failed')
      assert.ok(
        body.errors.some((e: { field: string }) => e.field === field),
        `expected a field error on ${field}: ${JSON.stringify(body.errors)}`,
      )
    })
  }

  test('an empty body object is a 400', async () => {
    const res = await app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: await t.auth(unique('sub')),
      payload: {},
    })
    assertProblem(res, 400, 'validation_failed')
  })

  test('refused changes leave the profile untouched', async () => {
    const { headers, profile } = await createUser(t, unique('keep'))
    await app.inject({ method: 'PATCH', url: '/v1/me', headers, payload: { bio: 'new', role: 'admin' } })
    const after = await app.inject({ method: 'GET', url: '/v1/me', headers })
    assert.equal(after.json().bio, profile.bio)
  })
})

describe('GET /v1/profiles/:username', () => {
  test('shows the public profile with its count of published stories, without email', async () => {
    const username = unique('pub')
    const { headers } = await createUser(t, username)
    await publishStory(app, headers)
    await publishStory(app, headers)
    await app.inject({ method: 'POST', url: '/v1/stories', headers, payload: { title: 'draft', body: 'b' } })
    const res = await app.inject({ method: 'GET', url: `/v1/profiles/${username}` })
    assert.equal(res.statusCode, 200)
    assert.equal(res.json().publishedStoryCount, 2)
    assert.equal(res.json().email, undefined)
  })

  test('an unknown username is a 404', async () => {
    assertProblem(
      await app.inject({ method: 'GET', url: `/v1/profiles/${unique('nobody')}` }),
      404,
      'profile_not_found',
    )
  })
})
