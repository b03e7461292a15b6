import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { clientBucket } from '../../src/platform/ratelimit/client-key.ts'
import { type Decision, Limiter, leaseSize } from '../../src/platform/ratelimit/limiter.ts'
import { type CounterStore, memoryCounterStore } from '../../src/platform/ratelimit/store.ts'

const rule = { max: 5, windowS: 60 }

function clock(start = 1_000_000_000_000) {
  const c = { t: start, now: () => c.t }
  return c
}

describe('limiter', () => {
  test('allows max per window with exact remaining, then refuses until the window ends', async () => {
    const c = clock(60_000 * 1000 + 15_000)
    const limiter = new Limiter({ local: memoryCounterStore(), now: c.now })
    const seen: Decision[] = []
    for (let i = 0; i < 7; i++) seen.push(await limiter.take('read', rule, 'u1'))
    assert.deepEqual(
      seen.map((d) => [d.allowed, d.remaining]),
      [
        [true, 4],
        [true, 3],
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
        [false, 0],
      ],
    )
    assert.equal(seen[6]!.resetS, 45)
    c.t += 45_000
    const fresh = await limiter.take('read', rule, 'u1')
    assert.deepEqual([fresh.allowed, fresh.remaining, fresh.resetS], [true, 4, 60])
  })

  test('buckets are separate per class and per id', async () => {
    const limiter = new Limiter({ local: memoryCounterStore(), now: clock().now })
    for (let i = 0; i < 5; i++) await limiter.take('read', rule, 'a')
    assert.equal((await limiter.take('read', rule, 'a')).allowed, false)
    assert.equal((await limiter.take('write', rule, 'a')).allowed, true)
    assert.equal((await limiter.take('read', rule, 'b')).allowed, true)
  })

  test('instances leasing from one shared counter never allow more than max together', async () => {
    const shared = memoryCounterStore()
    const c = clock()
    const big = { max: 200, windowS: 60 }
    const instances = [0, 1, 2].map(() => new Limiter({ shared, local: memoryCounterStore(), now: c.now }))
    const burst = instances.flatMap((l) => Array.from({ length: 150 }, () => l.take('ip', big, 'x')))
    const allowed = (await Promise.all(burst)).filter((d) => d.allowed).length
    assert.ok(allowed <= big.max, `allowed ${allowed}`)
    // Tokens stranded on other instances are the price: at most (instances - 1) leases.
    assert.ok(allowed >= big.max - 2 * leaseSize(big.max), `allowed ${allowed}`)
  })

  test('a failing shared store falls back to per-instance counters and says so', async () => {
    const failing: CounterStore = { lease: () => Promise.reject(new Error('redis down')) }
    const fallbacks: string[] = []
    const limiter = new Limiter({
      shared: failing,
      local: memoryCounterStore(),
      onFallback: (cls) => fallbacks.push(cls),
      now: clock().now,
    })
    const results = []
    for (let i = 0; i < 6; i++) results.push((await limiter.take('write', rule, 'f')).allowed)
    assert.deepEqual(results, [true, true, true, true, true, false])
    assert.ok(fallbacks.length > 0 && fallbacks.every((c) => c === 'write'))
  })

  test('a shared store reported down is not even tried', async () => {
    let calls = 0
    const shared: CounterStore = {
      lease: () => {
        calls++
        return 1
      },
    }
    const limiter = new Limiter({
      shared,
      sharedUp: () => false,
      local: memoryCounterStore(),
      now: clock().now,
    })
    assert.equal((await limiter.take('ip', rule, 'z')).allowed, true)
    assert.equal(calls, 0)
  })
})

describe('client buckets', () => {
  test('IPv6 clients are counted per /64; IPv4 and IPv4-mapped per address', () => {
    assert.equal(clientBucket('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
    assert.equal(clientBucket('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64')
    assert.equal(clientBucket('2001:0DB8:0001:0002::9'), '2001:db8:1:2::/64')
    assert.notEqual(clientBucket('2001:db8:1:3::1'), clientBucket('2001:db8:1:2::1'))
    assert.equal(clientBucket('::1'), '0:0:0:0::/64')
    assert.equal(clientBucket('fe80::1%eth0'), 'fe80:0:0:0::/64')
    assert.equal(clientBucket('203.0.113.9'), '203.0.113.9')
    assert.equal(clientBucket('::ffff:203.0.113.9'), '203.0.113.9')
  })
})
