import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, type TestApp, unique } from '../helpers/app.ts'

// Two instances of the API on one PostgreSQL and one Redis (the services run). They get
// a key prefix of their own: every test file of a services run shares the run's prefix,
// and a profile edit anywhere drops the whole `story` kind (a new generation), so other
// files' writes would otherwise land between this file's reads.
const deployment = {
  REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX ?? 'inkwell:'}${unique('coherence')}:`,
}
const a = await buildTestApp(deployment)
const b = await buildTestApp(deployment)

async function metric(t: TestApp, name: string, labels: Record<string, string>): Promise<number> {
  const values = (await t.app.metrics.getSingleMetric(name)!.get()).values
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0)
}

/**
 * Both apps share this process's event loop, so B's subscriber may not have read the
 * invalidation A published by the time the test's next line runs (across processes
 * it arrives before A's response). Wait for its delivery, by event-loop turns.
 */
async function delivered(t: TestApp, kind: string, before: number): Promise<void> {
  for (let turn = 0; turn < 100_000; turn++) {
    if ((await metric(t, 'inkwell_cache_invalidations_total', { kind, origin: 'remote' })) > before) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  assert.fail(`no ${kind} invalidation reached the other instance`)
}

/**
 * Every invalidation of `kind` either instance issued has reached both, the issuer's
 * own echo included: a load that is running when an invalidation message arrives is
 * returned but not stored (it may have read what the write replaced), and the design
 * does not tell an echo of an invalidation that is already applied from a new one.
 */
async function settled(kind: string): Promise<void> {
  for (let turn = 0; turn < 100_000; turn++) {
    const issued =
      (await metric(a, 'inkwell_cache_invalidations_total', { kind, origin: 'local' })) +
      (await metric(b, 'inkwell_cache_invalidations_total', { kind, origin: 'local' }))
    const [onA, onB] = await Promise.all(
      [a, b].map((t) => metric(t, 'inkwell_cache_invalidations_total', { kind, origin: 'remote' })),
    )
    if (onA! >= issued && onB! >= issued) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  assert.fail(`${kind} invalidations did not reach both instances`)
}

describe('cache coherence across two instances on one Redis', () => {
  test('a like and an edit through A are seen by B’s next read', async () => {
    const author = await createUser(a, unique('co'))
    const fan = await a.auth(unique('fan'))
    const story = await publishStory(a.app, author.headers)
    const url = `/v1/stories/${story.id}`
    assert.equal((await b.app.inject({ url })).json().likeCount, 0)
    assert.equal((await b.app.inject({ url })).json().likeCount, 0)
    let seen = await metric(b, 'inkwell_cache_invalidations_total', { kind: 'story', origin: 'remote' })
    assert.equal((await a.app.inject({ method: 'PUT', url: `${url}/like`, headers: fan })).statusCode, 200)
    await delivered(b, 'story', seen)
    assert.equal((await b.app.inject({ url })).json().likeCount, 1)
    seen = await metric(b, 'inkwell_cache_invalidations_total', { kind: 'story', origin: 'remote' })
    await a.app.inject({ method: 'PATCH', url, headers: author.headers, payload: { title: 'Edited on A' } })
    await delivered(b, 'story', seen)
    assert.equal((await b.app.inject({ url })).json().title, 'Edited on A')
  })

  test('a value one instance loaded is served to the other from Redis', async () => {
    const author = await createUser(a, unique('cr'))
    const story = await publishStory(a.app, author.headers)
    // The profile edit (new generation of every kind) and the publish reach both first:
    // B must read the generation A fills, and A's own echo must not cancel its fill.
    await settled('story')
    await a.app.inject({ url: `/v1/stories/${story.id}` })
    const before = await metric(b, 'inkwell_cache_hits_total', { kind: 'story', tier: 'shared' })
    assert.equal((await b.app.inject({ url: `/v1/stories/${story.id}` })).statusCode, 200)
    assert.equal(await metric(b, 'inkwell_cache_hits_total', { kind: 'story', tier: 'shared' }), before + 1)
  })

  test('a profile rename on A: B no longer serves the old name', async () => {
    const name = unique('cp')
    const author = await createUser(a, name)
    assert.equal((await b.app.inject({ url: `/v1/profiles/${name}` })).statusCode, 200)
    const seen = await metric(b, 'inkwell_cache_invalidations_total', { kind: 'profile', origin: 'remote' })
    await a.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: author.headers,
      payload: { username: unique('cq') },
    })
    await delivered(b, 'profile', seen)
    assert.equal((await b.app.inject({ url: `/v1/profiles/${name}` })).statusCode, 404)
  })

  test('Redis lost: reads keep succeeding, the cache reports degraded, then resumes by itself', async () => {
    const author = await createUser(a, unique('cx'))
    const story = await publishStory(a.app, author.headers)
    const link = a.platform.redis!
    const down = new Promise<void>((resolve) => link.once('down', () => resolve()))
    const up = new Promise<void>((resolve) => link.once('up', () => resolve()))
    link.client.disconnect(true)
    await down
    assert.equal(a.platform.ctx.cache.degraded, true)
    assert.equal(await metric(a, 'inkwell_cache_degraded', {}), 1)
    assert.equal((await a.app.inject({ url: `/v1/stories/${story.id}` })).statusCode, 200)
    const ready = await a.app.inject({ url: '/readyz' })
    assert.equal(ready.statusCode, 200, ready.body)
    await up
    for (let turn = 0; a.platform.ctx.cache.degraded && turn < 100_000; turn++)
      await new Promise((resolve) => setImmediate(resolve))
    assert.equal(a.platform.ctx.cache.degraded, false)
    assert.equal(await metric(a, 'inkwell_cache_degraded', {}), 0)
    const hits = await metric(a, 'inkwell_cache_hits_total', { kind: 'story' })
    await a.app.inject({ url: `/v1/stories/${story.id}` })
    await a.app.inject({ url: `/v1/stories/${story.id}` })
    assert.ok((await metric(a, 'inkwell_cache_hits_total', { kind: 'story' })) > hits)
  })
})

describe('Redis unreachable from the start', () => {
  test('the API serves from the database and stays ready', async () => {
    // Job queues keep the run's Redis: only the cache's is unreachable here.
    const queues = process.env.QUEUE_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
    const t = await buildTestApp({ REDIS_URL: 'redis://127.0.0.1:1', QUEUE_REDIS_URL: queues })
    const author = await createUser(t, unique('cz'))
    const story = await publishStory(t.app, author.headers)
    for (let i = 0; i < 3; i++)
      assert.equal((await t.app.inject({ url: `/v1/stories/${story.id}` })).statusCode, 200)
    const ready = await t.app.inject({ url: '/readyz' })
    assert.equal(ready.statusCode, 200, ready.body)
    assert.equal(t.platform.ctx.cache.degraded, true)
  })
})
