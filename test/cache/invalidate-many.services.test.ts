import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Redis } from 'ioredis'
import pino from 'pino'
import { createCache } from '../../src/platform/cache/create.ts'
import { connectRedis } from '../../src/platform/cache/redis.ts'
import { eventually } from '../jobs/support.ts'

// Services run only: two instances sharing one Redis, as two API replicas would.
const log = pino({ level: 'silent' })
const keyPrefix = `${process.env.REDIS_KEY_PREFIX ?? 'inkwell:test:'}many:`
const settings = { CACHE_ENABLED: true, CACHE_LOCAL_MAX_ENTRIES: 10_000, REDIS_KEY_PREFIX: keyPrefix }
const instance = () => createCache(settings, connectRedis(process.env.REDIS_URL!, keyPrefix, log), log)
const [a, b] = [instance(), instance()]
const listener = new Redis(process.env.REDIS_URL!)
const messages: string[] = []
listener.on('message', (_channel: string, text: string) => messages.push(text))
await listener.subscribe(`${keyPrefix}cache:invalidate`)
after(async () => {
  await a.cache.close()
  await b.cache.close()
  await listener.quit()
})

const remote = (metrics: typeof a.metrics) =>
  metrics.find((m) => (m as unknown as { name: string }).name === 'inkwell_cache_invalidations_total')

test('invalidateMany drops every id, here, in Redis and on the other instance, in one message per chunk', async () => {
  await eventually(async () => !a.cache.degraded && !b.cache.degraded, 'both caches on Redis')
  const ids = Array.from({ length: 1500 }, (_, i) => `s${i}`)
  let version = 1
  const fill = (cache: typeof a.cache) =>
    Promise.all(ids.map((id) => cache.getOrLoad('story', id, async () => ({ id, version }))))
  await fill(a.cache)
  await fill(b.cache)
  const before = await remote(b.metrics)?.get()
  version = 2
  messages.length = 0
  await a.cache.invalidateMany('story', ids)
  // b learns of it through pub/sub: its local copies go, and Redis holds none either.
  await eventually(async () => {
    const seen = await fill(b.cache)
    return seen.every((v) => v.version === 2)
  }, 'b to drop every id')
  assert.ok((await fill(a.cache)).every((v) => v.version === 2))
  const after = await remote(b.metrics)?.get()
  const received = (m: typeof before) =>
    m?.values.find((v) => v.labels.origin === 'remote' && v.labels.scope === 'key')?.value ?? 0
  assert.equal(received(after) - received(before), ids.length)
  // 1500 ids: two chunks (1000 and 500), one message each.
  assert.deepEqual(
    messages.map((m) => (JSON.parse(m) as { ids: string[] }).ids.length),
    [1000, 500],
  )
})
