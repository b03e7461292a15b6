import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createStory, createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, type TestApp, unique } from '../helpers/app.ts'

async function metricValue(t: TestApp, name: string, labels: Record<string, string>): Promise<number> {
  const metric = t.app.metrics.getSingleMetric(name)
  const values = (await metric!.get()).values
  const match = values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
  return match.reduce((sum, v) => sum + v.value, 0)
}

// A loaded machine (the whole suite in parallel) must not turn a slow write into a 503.
const t = await buildTestApp({ REQUEST_TIMEOUT_MS: '60000' })

describe('cached reads through the HTTP API', () => {
  test('repeated reads of a story are served from the cache (hit rate)', async () => {
    const author = await createUser(t, unique('ca'))
    const story = await publishStory(t.app, author.headers)
    const hitsBefore = await metricValue(t, 'inkwell_cache_hits_total', { kind: 'story' })
    for (let i = 0; i < 10; i++) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })
      assert.equal(res.statusCode, 200)
    }
    const hits = (await metricValue(t, 'inkwell_cache_hits_total', { kind: 'story' })) - hitsBefore
    assert.ok(hits >= 9, `expected at least 9 hits of 10 reads, got ${hits}`)
  })

  test('a like, an edit and an unlike are visible on the next read, with a new ETag', async () => {
    const author = await createUser(t, unique('cb'))
    const reader = await createUser(t, unique('cc'))
    const story = await publishStory(t.app, author.headers)
    const url = `/v1/stories/${story.id}`
    const first = await t.app.inject({ method: 'GET', url })
    assert.equal(first.json().likeCount, 0)
    await t.app.inject({ method: 'PUT', url: `${url}/like`, headers: reader.headers })
    const liked = await t.app.inject({
      method: 'GET',
      url,
      headers: { 'if-none-match': first.headers.etag as string },
    })
    assert.equal(liked.statusCode, 200)
    assert.equal(liked.json().likeCount, 1)
    assert.notEqual(liked.headers.etag, first.headers.etag)
    await t.app.inject({ method: 'PATCH', url, headers: author.headers, payload: { title: 'Edited' } })
    assert.equal((await t.app.inject({ method: 'GET', url })).json().title, 'Edited')
    await t.app.inject({ method: 'DELETE', url: `${url}/like`, headers: reader.headers })
    const last = await t.app.inject({ method: 'GET', url })
    assert.equal(last.json().likeCount, 0)
    const again = await t.app.inject({
      method: 'GET',
      url,
      headers: { 'if-none-match': last.headers.etag as string },
    })
    assert.equal(again.statusCode, 304)
  })

  test('a like drops the story, list pages and trending (all show like counts), a repeated like nothing', async () => {
    const author = await createUser(t, unique('cl'))
    const reader = await createUser(t, unique('cm'))
    const story = await publishStory(t.app, author.headers)
    const url = `/v1/stories/${story.id}/like`
    const counts = async () =>
      Object.fromEntries(
        await Promise.all(
          ['story', 'storyList', 'trending', 'profile'].map(async (kind) => [
            kind,
            await metricValue(t, 'inkwell_cache_invalidations_total', { kind, origin: 'local' }),
          ]),
        ),
      )
    const before = await counts()
    assert.equal((await t.app.inject({ method: 'PUT', url, headers: reader.headers })).statusCode, 200)
    const liked = await counts()
    assert.deepEqual(liked, {
      story: before.story + 1,
      storyList: before.storyList + 1,
      trending: before.trending + 1,
      profile: before.profile,
    })
    assert.equal((await t.app.inject({ method: 'PUT', url, headers: reader.headers })).json().likeCount, 1)
    assert.deepEqual(await counts(), liked)
  })

  test('a draft is served to its author only, never from a cached entry', async () => {
    const author = await createUser(t, unique('cd'))
    const other = await createUser(t, unique('ce'))
    const draft = await createStory(t.app, author.headers)
    const url = `/v1/stories/${draft.id}`
    for (let i = 0; i < 3; i++) {
      assert.equal((await t.app.inject({ method: 'GET', url, headers: author.headers })).statusCode, 200)
      assert.equal((await t.app.inject({ method: 'GET', url, headers: other.headers })).statusCode, 404)
      assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 404)
    }
    await t.app.inject({ method: 'POST', url: `${url}/publish`, headers: author.headers })
    assert.equal((await t.app.inject({ method: 'GET', url, headers: other.headers })).statusCode, 200)
  })

  test('the first feed page and the author page show a new story at once; a delete removes it', async () => {
    const username = unique('cf')
    const author = await createUser(t, username)
    const feedUrl = `/v1/profiles/${username}/stories?limit=5`
    assert.equal((await t.app.inject({ method: 'GET', url: feedUrl })).json().items.length, 0)
    const story = await publishStory(t.app, author.headers)
    const page = (await t.app.inject({ method: 'GET', url: feedUrl })).json()
    assert.deepEqual(
      page.items.map((s: { id: string }) => s.id),
      [story.id],
    )
    const top = (await t.app.inject({ method: 'GET', url: '/v1/stories?limit=100' })).json()
    assert.ok(top.items.some((s: { id: string }) => s.id === story.id))
    await t.app.inject({ method: 'DELETE', url: `/v1/stories/${story.id}`, headers: author.headers })
    assert.equal((await t.app.inject({ method: 'GET', url: feedUrl })).json().items.length, 0)
  })

  test('profiles carry an ETag, answer 304, and show edits and counts on the next read', async () => {
    const username = unique('cg')
    const author = await createUser(t, username)
    const url = `/v1/profiles/${username}`
    const first = await t.app.inject({ method: 'GET', url })
    assert.equal(first.statusCode, 200)
    assert.match(String(first.headers.etag), /^"[A-Za-z0-9_-]+"$/)
    const same = await t.app.inject({
      method: 'GET',
      url,
      headers: { 'if-none-match': first.headers.etag as string },
    })
    assert.equal(same.statusCode, 304)
    await publishStory(t.app, author.headers)
    const counted = await t.app.inject({
      method: 'GET',
      url,
      headers: { 'if-none-match': first.headers.etag as string },
    })
    assert.equal(counted.statusCode, 200)
    assert.equal(counted.json().publishedStoryCount, 1)
    const renamed = unique('ch')
    await t.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: author.headers,
      payload: { username: renamed },
    })
    assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 404)
    assert.equal((await t.app.inject({ method: 'GET', url: `/v1/profiles/${renamed}` })).statusCode, 200)
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: author.headers })
    const meAgain = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { ...author.headers, 'if-none-match': me.headers.etag as string },
    })
    assert.equal(meAgain.statusCode, 304)
  })

  test('a renamed author shows under the new name inside cached stories', async () => {
    const author = await createUser(t, unique('ci'))
    const story = await publishStory(t.app, author.headers)
    await t.app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })
    const renamed = unique('cj')
    await t.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: author.headers,
      payload: { username: renamed },
    })
    const res = await t.app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })
    assert.equal(res.json().author.username, renamed)
  })
})

const uncached = await buildTestApp({ CACHE_ENABLED: 'false' })

describe('CACHE_ENABLED=false', () => {
  test('reads go to the database every time and still answer', async () => {
    const t = uncached
    const author = await createUser(t, unique('ck'))
    const story = await publishStory(t.app, author.headers)
    for (let i = 0; i < 3; i++) {
      assert.equal((await t.app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })).statusCode, 200)
    }
    assert.equal(await metricValue(t, 'inkwell_cache_hits_total', { kind: 'story' }), 0)
    assert.ok((await metricValue(t, 'inkwell_cache_misses_total', { kind: 'story', reason: 'bypass' })) >= 3)
  })
})
