import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import { test } from 'node:test'
import pino from 'pino'
import { createMemoryStore } from '../../src/platform/cache/cache.ts'
import { createCache } from '../../src/platform/cache/create.ts'
import { Limiter } from '../../src/platform/ratelimit/limiter.ts'
import { memoryCounterStore } from '../../src/platform/ratelimit/store.ts'

/**
 * Timers started while `work` runs. lru-cache, by default, caches the clock for 1 ms and
 * starts a timer to forget it on every read of a TTL'd cache (platform/lru-ttl.ts): on a
 * read path that is an async resource per request at low load.
 */
async function timersStartedBy(work: () => Promise<void>): Promise<number> {
  let started = 0
  const hook = createHook({
    init(_id, type) {
      if (type === 'Timeout') started++
    },
  }).enable()
  try {
    await work()
  } finally {
    hook.disable()
  }
  return started
}

const log = pino({ level: 'silent' })

test('the two-tier cache, the memory store and the rate limiter start no timer when read', async () => {
  const { cache } = createCache(
    { CACHE_ENABLED: true, CACHE_LOCAL_MAX_ENTRIES: 100, REDIS_KEY_PREFIX: 'unused:' },
    undefined,
    log,
  )
  await cache.getOrLoad('story', 's1', async () => ({ id: 's1' }))
  const store = createMemoryStore()
  const limiter = new Limiter({ local: memoryCounterStore() })
  const rule = { max: 1_000_000, windowS: 60 }

  assert.equal(
    await timersStartedBy(async () => {
      for (let i = 0; i < 100; i++)
        assert.deepEqual(await cache.getOrLoad('story', 's1', async () => null), { id: 's1' })
    }),
    0,
    'two-tier cache hit',
  )
  assert.equal(
    await timersStartedBy(async () => {
      await store.set('k', 'v', 60)
      for (let i = 0; i < 100; i++) assert.equal(await store.get('k'), 'v')
    }),
    0,
    'memory store',
  )
  assert.equal(
    await timersStartedBy(async () => {
      for (let i = 0; i < 100; i++) assert.ok((await limiter.take('read', rule, 'u1')).allowed)
    }),
    0,
    'rate limiter',
  )
})
