import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { buildTestApp } from '../helpers/app.ts'

// Two instances on one Redis (the services run); addresses are unique per test.
// A day-long window, so no test here straddles a window boundary.
const limits = { RATE_LIMIT_IP_MAX: '40', RATE_LIMIT_IP_WINDOW_S: '86400' }
const a = await buildTestApp(limits)
const b = await buildTestApp(limits)
const freshIp = () => `198.18.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0]! % 250)}`

describe('rate limits across two instances on one Redis', () => {
  test('the limit holds across instances, requests alternating', async () => {
    const remoteAddress = freshIp()
    let allowed = 0
    for (let i = 0; i < 60; i++) {
      const app = i % 2 === 0 ? a.app : b.app
      if ((await app.inject({ url: '/v1/stories?limit=1', remoteAddress })).statusCode === 200) allowed++
    }
    // Leases of 2 tokens (40 / 20): at most one lease stranded on the other instance.
    assert.ok(allowed <= 40 && allowed >= 38, `allowed ${allowed}`)
  })

  test('a concurrent burst across both instances gets no more than the limit through', async () => {
    const remoteAddress = freshIp()
    const burst = Array.from({ length: 120 }, (_, i) =>
      (i % 2 === 0 ? a.app : b.app).inject({ url: '/no-such-route', remoteAddress }),
    )
    const codes = (await Promise.all(burst)).map((r) => r.statusCode)
    const through = codes.filter((c) => c === 404).length
    assert.equal(through + codes.filter((c) => c === 429).length, 120)
    assert.ok(through <= 40 && through >= 38, `through ${through}`)
  })

  test('the window resets', async () => {
    const t = await buildTestApp({ RATE_LIMIT_IP_MAX: '2', RATE_LIMIT_IP_WINDOW_S: '1' })
    const remoteAddress = freshIp()
    // Start at a window's beginning so the two requests share it.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)))
    const codes = []
    for (let i = 0; i < 3; i++)
      codes.push((await t.app.inject({ url: '/v1/stories', remoteAddress })).statusCode)
    assert.deepEqual(codes, [200, 200, 429])
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)))
    assert.equal((await t.app.inject({ url: '/v1/stories', remoteAddress })).statusCode, 200)
  })
})
