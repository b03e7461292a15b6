import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { assertProblem, createStory, createUser, publishStory } from '../../../test/helpers/api.ts'
import { buildTestApp, unique } from '../../../test/helpers/app.ts'

const t = await buildTestApp()
const { app } = t
const alice = await createUser(t, unique('alice'))
const bob = await createUser(t, unique('bob'))
const admin = await createUser(t, unique('admin'), ['admin'])

describe('POST /v1/stories', () => {
  test('creates a draft: 201 with Location, author summary and zero counters', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: alice.headers,
      payload: { title: 'First', body: 'Once upon a time.', tags: ['fiction', 'short-story'] },
    })
    assert.equal(res.statusCode, 201)
    const story = res.json()
    assert.equal(res.headers.location, `/v1/stories/${story.id}`)
    assert.match(story.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(story.status, 'draft')
    assert.equal(story.author.username, alice.profile.username)
    assert.deepEqual([story.likeCount, story.viewCount, story.version], [0, 0, 1])
    assert.equal(story.publishedAt, null)
    assert.ok(story.createdAt.endsWith('Z'))
  })

  test('needs authentication', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/stories', payload: { title: 'x', body: 'y' } })
    assertProblem(res, 401, 'unauthenticated')
  })

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['an empty title', { title: '', body: 'b' }, 'body.title'],
    ['a blank title', { title: '   ', body: 'b' }, 'body.title'],
    ['a title over 200', { title: 't'.repeat(201), body: 'b' }, 'body.title'],
    ['an empty body', { title: 't', body: '' }, 'body.body'],
    ['a body over 100,000', { title: 't', body: 'b'.repeat(100_001) }, 'body.body'],
    [
      'eleven tags',
      { title: 't', body: 'b', tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
      'body.tags',
    ],
    ['a tag with capitals', { title: 't', body: 'b', tags: ['Fiction'] }, 'body.tags.0'],
    ['a tag over 30', { title: 't', body: 'b', tags: ['x'.repeat(31)] }, 'body.tags.0'],
    ['duplicate tags', { title: 't', body: 'b', tags: ['a', 'a'] }, 'body.tags'],
    [
      'authorId',
      { title: 't', body: 'b', authorId: '00000000-0000-7000-8000-000000000000' },
      'body.authorId',
    ],
    ['likeCount', { title: 't', body: 'b', likeCount: 5 }, 'body.likeCount'],
    ['status', { title: 't', body: 'b', status: 'published' }, 'body.status'],
    ['createdAt', { title: 't', body: 'b', createdAt: '2020-01-01T00:00:00Z' }, 'body.createdAt'],
    ['a number as title', { title: 5, body: 'b' }, 'body.title'],
    ['a missing body', { title: 't' }, 'body.body'],
  ]
  for (const [name, payload, field] of invalid) {
    test(`refuses ${name}`, async () => {
      const res = await app.inject({ method: 'POST', url: '/v1/stories', headers: alice.headers, payload })
      const body = assertProblem(res, 400, 'validation_failed')
      assert.ok(
        body.errors.some((e: { field: string }) => e.field === field),
        `expected ${field} in ${JSON.stringify(body.errors)}`,
      )
    })
  }

  test('a body of exactly 100,000 characters and a 200-character title are accepted', async () => {
    const story = await createStory(app, alice.headers, { title: 't'.repeat(200), body: 'b'.repeat(100_000) })
    assert.equal(story.body.length, 100_000)
  })

  test('a NUL character is a 400 invalid_text, not a database error', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: alice.headers,
      payload: { title: 'nul', body: 'before\u0000after' },
    })
    const body = assertProblem(res, 400, 'invalid_text')
    assert.equal(body.errors[0].field, 'body.body')
  })

  test('a lone surrogate is a 400 invalid_text', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: { ...alice.headers, 'content-type': 'application/json' },
      payload: '{"title":"bad \\ud800 text","body":"b"}',
    })
    assertProblem(res, 400, 'invalid_text')
  })

  test('text is stored NFC-normalized', async () => {
    const decomposed = 'Cafe\u0301'
    const story = await createStory(app, alice.headers, { title: decomposed, body: decomposed })
    assert.equal(story.title, 'Caf\u00e9')
    assert.equal(story.title.length, 4)
  })
})

describe('GET /v1/stories/:id', () => {
  test('a published story is public', async () => {
    const story = await publishStory(app, alice.headers)
    const res = await app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })
    assert.equal(res.statusCode, 200)
    assert.equal(res.json().status, 'published')
  })

  test('a draft is visible to its author only; 404 to anyone else', async () => {
    const draft = await createStory(app, alice.headers)
    assert.equal(
      (await app.inject({ method: 'GET', url: `/v1/stories/${draft.id}`, headers: alice.headers }))
        .statusCode,
      200,
    )
    assertProblem(await app.inject({ method: 'GET', url: `/v1/stories/${draft.id}` }), 404, 'story_not_found')
    assertProblem(
      await app.inject({ method: 'GET', url: `/v1/stories/${draft.id}`, headers: bob.headers }),
      404,
      'story_not_found',
    )
  })

  test('an id that is not a UUID is a 400; an unknown UUID a 404', async () => {
    assertProblem(
      await app.inject({ method: 'GET', url: '/v1/stories/not-a-uuid' }),
      400,
      'validation_failed',
    )
    assertProblem(
      await app.inject({ method: 'GET', url: '/v1/stories/01900000-0000-7000-8000-000000000000' }),
      404,
      'story_not_found',
    )
  })
})

describe('PATCH /v1/stories/:id', () => {
  test('the author edits; the version goes up', async () => {
    const story = await createStory(app, alice.headers)
    const res = await app.inject({
      method: 'PATCH',
      url: `/v1/stories/${story.id}`,
      headers: alice.headers,
      payload: { title: 'Edited', tags: ['x'] },
    })
    assert.equal(res.statusCode, 200)
    assert.equal(res.json().title, 'Edited')
    assert.equal(res.json().body, story.body)
    assert.equal(res.json().version, 2)
  })

  test("another user's published story is a 403; their draft a 404", async () => {
    const published = await publishStory(app, alice.headers)
    const draft = await createStory(app, alice.headers)
    const patch = (id: string) =>
      app.inject({
        method: 'PATCH',
        url: `/v1/stories/${id}`,
        headers: bob.headers,
        payload: { title: 'mine' },
      })
    assertProblem(await patch(published.id), 403, 'forbidden')
    assertProblem(await patch(draft.id), 404, 'story_not_found')
    const unchanged = await app.inject({ method: 'GET', url: `/v1/stories/${published.id}` })
    assert.equal(unchanged.json().title, published.title)
  })

  test('status, counters and unknown fields cannot be patched', async () => {
    const story = await createStory(app, alice.headers)
    for (const payload of [
      { status: 'published' },
      { likeCount: 9 },
      { version: 9 },
      { authorId: bob.profile.id },
    ]) {
      const res = await app.inject({
        method: 'PATCH',
        url: `/v1/stories/${story.id}`,
        headers: alice.headers,
        payload,
      })
      assertProblem(res, 400, 'validation_failed')
    }
  })
})

describe('POST /v1/stories/:id/publish', () => {
  test('publishes a draft once; publishing again changes nothing', async () => {
    const draft = await createStory(app, alice.headers)
    const first = await app.inject({
      method: 'POST',
      url: `/v1/stories/${draft.id}/publish`,
      headers: alice.headers,
    })
    assert.equal(first.statusCode, 200)
    assert.ok(first.json().publishedAt)
    const second = await app.inject({
      method: 'POST',
      url: `/v1/stories/${draft.id}/publish`,
      headers: alice.headers,
    })
    assert.equal(second.statusCode, 200)
    assert.equal(second.json().publishedAt, first.json().publishedAt)
    assert.equal(second.json().version, first.json().version)
  })

  test("another user's draft is a 404; their published story a 403", async () => {
    const draft = await createStory(app, alice.headers)
    const published = await publishStory(app, alice.headers)
    const publish = (id: string) =>
      app.inject({ method: 'POST', url: `/v1/stories/${id}/publish`, headers: bob.headers })
    assertProblem(await publish(draft.id), 404, 'story_not_found')
    assertProblem(await publish(published.id), 403, 'forbidden')
  })
})

describe('DELETE /v1/stories/:id', () => {
  test('the author deletes: 204, then gone from reads, lists and counts; a second delete is a 404', async () => {
    const username = unique('deleter')
    const author = await createUser(t, username)
    const story = await publishStory(app, author.headers, { tags: [unique('t').replace('_', '-')] })
    const del = await app.inject({
      method: 'DELETE',
      url: `/v1/stories/${story.id}`,
      headers: author.headers,
    })
    assert.equal(del.statusCode, 204)
    assert.equal(del.body, '')
    assertProblem(await app.inject({ method: 'GET', url: `/v1/stories/${story.id}` }), 404, 'story_not_found')
    const list = await app.inject({ method: 'GET', url: `/v1/profiles/${username}/stories` })
    assert.deepEqual(list.json().items, [])
    const profile = await app.inject({ method: 'GET', url: `/v1/profiles/${username}` })
    assert.equal(profile.json().publishedStoryCount, 0)
    const again = await app.inject({
      method: 'DELETE',
      url: `/v1/stories/${story.id}`,
      headers: author.headers,
    })
    assertProblem(again, 404, 'story_not_found')
  })

  test("another user's published story is a 403, their draft a 404", async () => {
    const published = await publishStory(app, alice.headers)
    const draft = await createStory(app, alice.headers)
    const del = (id: string) =>
      app.inject({ method: 'DELETE', url: `/v1/stories/${id}`, headers: bob.headers })
    assertProblem(await del(published.id), 403, 'forbidden')
    assertProblem(await del(draft.id), 404, 'story_not_found')
    assert.equal((await app.inject({ method: 'GET', url: `/v1/stories/${published.id}` })).statusCode, 200)
  })

  test("an admin (verified role claim) may delete anyone's story", async () => {
    const story = await publishStory(app, alice.headers)
    const res = await app.inject({ method: 'DELETE', url: `/v1/stories/${story.id}`, headers: admin.headers })
    assert.equal(res.statusCode, 204)
  })

  test('a role claimed by header or query string grants nothing', async () => {
    const story = await publishStory(app, alice.headers)
    const res = await app.inject({
      method: 'DELETE',
      url: `/v1/stories/${story.id}?role=admin`,
      headers: { ...bob.headers, 'x-role': 'admin', 'x-admin': 'true' },
    })
    assert.ok([400, 403].includes(res.statusCode))
    assert.equal((await app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })).statusCode, 200)
  })
})
