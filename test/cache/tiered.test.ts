import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import pino from 'pino'
import { createCache } from '../../src/platform/cache/create.ts'

const log = pino({ level: 'silent' })
const settings = { CACHE_ENABLED: true, CACHE_LOCAL_MAX_ENTRIES: 100, REDIS_KEY_PREFIX: 'unused:' }

function deferred<T>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

function counting<T>(value: () => T) {
  const loader = async () => {
    loader.calls++
    return value()
  }
  loader.calls = 0
  return loader
}

describe('two-tier object cache (memory)', () => {
  test('N concurrent misses of one key cause one load (single-flight)', async () => {
    const { cache } = createCache(settings, undefined, log)
    const gate = deferred<{ n: number }>()
    let calls = 0
    const load = () => {
      calls++
      return gate.promise
    }
    const reads = Array.from({ length: 25 }, () => cache.getOrLoad('story', 's1', load))
    gate.resolve({ n: 1 })
    const values = await Promise.all(reads)
    assert.equal(calls, 1)
    for (const v of values) assert.deepEqual(v, { n: 1 })
  })

  test('a stored value is served until invalidated; then loaded again', async () => {
    const { cache } = createCache(settings, undefined, log)
    let version = 1
    const load = counting(() => ({ version }))
    assert.deepEqual(await cache.getOrLoad('story', 'a', load), { version: 1 })
    version = 2
    assert.deepEqual(await cache.getOrLoad('story', 'a', load), { version: 1 })
    await cache.invalidate('story', 'a')
    assert.deepEqual(await cache.getOrLoad('story', 'a', load), { version: 2 })
    assert.equal(load.calls, 2)
  })

  test('invalidating a kind drops all its entries and no other kind', async () => {
    const { cache } = createCache(settings, undefined, log)
    const lists = counting(() => ({ items: [] }))
    const profile = counting(() => ({ name: 'x' }))
    await cache.getOrLoad('storyList', 'p1', lists)
    await cache.getOrLoad('storyList', 'p2', lists)
    await cache.getOrLoad('profile', 'u', profile)
    await cache.invalidateKind('storyList')
    await cache.getOrLoad('storyList', 'p1', lists)
    await cache.getOrLoad('storyList', 'p2', lists)
    await cache.getOrLoad('profile', 'u', profile)
    assert.equal(lists.calls, 4)
    assert.equal(profile.calls, 1)
  })

  test('a load overtaken by an invalidation is returned but not stored', async () => {
    const { cache } = createCache(settings, undefined, log)
    const gate = deferred<{ v: string }>()
    const first = cache.getOrLoad('story', 'k', () => gate.promise)
    await cache.invalidate('story', 'k')
    gate.resolve({ v: 'old' })
    assert.deepEqual(await first, { v: 'old' })
    assert.deepEqual(await cache.getOrLoad('story', 'k', async () => ({ v: 'new' })), { v: 'new' })
  })

  test('values failing cacheIf are never stored', async () => {
    const { cache } = createCache(settings, undefined, log)
    const load = counting(() => ({ status: 'draft' }))
    const options = { cacheIf: (v: { status: string }) => v.status === 'published' }
    await cache.getOrLoad('story', 'd', load, options)
    await cache.getOrLoad('story', 'd', load, options)
    assert.equal(load.calls, 2)
  })

  test('CACHE_ENABLED=false: every read loads, counted as a bypass miss', async () => {
    const { cache, metrics } = createCache({ ...settings, CACHE_ENABLED: false }, undefined, log)
    const load = counting(() => ({}))
    await cache.getOrLoad('profile', 'u', load)
    await cache.getOrLoad('profile', 'u', load)
    assert.equal(load.calls, 2)
    const misses = metrics.find((m) => (m as { name?: string }).name === 'inkwell_cache_misses_total')
    const values = (await misses!.get()).values
    assert.equal(values.find((v) => v.labels.reason === 'bypass')?.value, 2)
  })

  test('hits and misses are counted per kind', async () => {
    const { cache, metrics } = createCache(settings, undefined, log)
    const load = counting(() => ({}))
    for (let i = 0; i < 5; i++) await cache.getOrLoad('trending', '24h:20', load)
    const byName = (name: string) => metrics.find((m) => (m as { name?: string }).name === name)!
    const hits = (await byName('inkwell_cache_hits_total').get()).values
    const misses = (await byName('inkwell_cache_misses_total').get()).values
    assert.equal(hits.find((v) => v.labels.kind === 'trending' && v.labels.tier === 'local')?.value, 4)
    assert.equal(misses.find((v) => v.labels.kind === 'trending')?.value, 1)
  })
})
