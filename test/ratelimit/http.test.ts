import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { assertProblem } from '../helpers/api.ts'
import { buildTestApp, unique } from '../helpers/app.ts'

const ipApp = await buildTestApp({
  RATE_LIMIT_IP_MAX: '3',
  RATE_LIMIT_IP_WINDOW_S: '60',
  TRUST_PROXY: '10.0.0.1',
})
const userApp = await buildTestApp({
  RATE_LIMIT_READ_MAX: '3',
  RATE_LIMIT_WRITE_MAX: '2',
  RATE_LIMIT_EXPENSIVE_MAX: '1',
})
const offApp = await buildTestApp({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_IP_MAX: '1' })

/** A documentation-range address no other test uses. */
const freshIp = () => `203.0.${randomBytes(1)[0]}.${1 + (randomBytes(1)[0]! % 250)}`
const storyUrl = () => `/v1/stories/00000000-0000-4000-8000-${randomBytes(6).toString('hex')}`

function headersOf(res: LightMyRequestResponse) {
  return ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'].map((h) => res.headers[h])
}

describe('per-IP limit (before authentication)', () => {
  test('exact headers on every response; the request past the limit is a 429 problem with Retry-After', async () => {
    const remoteAddress = freshIp()
    const remaining: unknown[] = []
    for (let i = 0; i < 3; i++) {
      const res = await ipApp.app.inject({ method: 'GET', url: '/v1/stories?limit=1', remoteAddress })
      assert.equal(res.statusCode, 200)
      const [limit, left, reset] = headersOf(res)
      assert.equal(limit, '3')
      assert.ok(Number(reset) >= 1 && Number(reset) <= 60, `reset ${reset}`)
      remaining.push(left)
    }
    assert.deepEqual(remaining, ['2', '1', '0'])
    const refused = await ipApp.app.inject({ method: 'GET', url: '/v1/stories?limit=1', remoteAddress })
    assertProblem(refused, 429, 'rate_limited')
    assert.equal(refused.headers['ratelimit-remaining'], '0')
    assert.equal(refused.headers['retry-after'], refused.headers['ratelimit-reset'])
  })

  test('unknown routes (404) count against the per-IP limit', async () => {
    const remoteAddress = freshIp()
    for (let i = 0; i < 3; i++) {
      const res = await ipApp.app.inject({ method: 'GET', url: `/no/such/${i}`, remoteAddress })
      assert.equal(res.statusCode, 404)
      assert.equal(res.headers['ratelimit-remaining'], String(2 - i))
    }
    assertProblem(
      await ipApp.app.inject({ method: 'GET', url: '/v1/stories', remoteAddress }),
      429,
      'rate_limited',
    )
  })

  test('X-Forwarded-For from an untrusted peer changes nothing; from TRUST_PROXY it names the client', async () => {
    const remoteAddress = freshIp()
    for (let i = 0; i < 3; i++) {
      const headers = { 'x-forwarded-for': freshIp() }
      assert.equal(
        (await ipApp.app.inject({ method: 'GET', url: '/v1/stories', remoteAddress, headers })).statusCode,
        200,
      )
    }
    const spoofed = { 'x-forwarded-for': freshIp() }
    assertProblem(
      await ipApp.app.inject({ method: 'GET', url: '/v1/stories', remoteAddress, headers: spoofed }),
      429,
      'rate_limited',
    )
    const client = freshIp()
    const viaProxy = { remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': client } }
    for (let i = 0; i < 3; i++)
      assert.equal((await ipApp.app.inject({ url: '/v1/stories', ...viaProxy })).statusCode, 200)
    assert.equal((await ipApp.app.inject({ url: '/v1/stories', ...viaProxy })).statusCode, 429)
    const other = { remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': freshIp() } }
    assert.equal((await ipApp.app.inject({ url: '/v1/stories', ...other })).statusCode, 200)
  })

  test('IPv6 clients share one bucket per /64', async () => {
    const prefix = `2001:db8:${randomBytes(2).toString('hex')}:1`
    for (const host of ['1', '2', 'ffff:3']) {
      const res = await ipApp.app.inject({ url: '/v1/stories', remoteAddress: `${prefix}::${host}` })
      assert.equal(res.statusCode, 200)
    }
    assert.equal(
      (await ipApp.app.inject({ url: '/v1/stories', remoteAddress: `${prefix}::9` })).statusCode,
      429,
    )
    const neighbour = `2001:db8:${randomBytes(2).toString('hex')}:2::1`
    assert.equal((await ipApp.app.inject({ url: '/v1/stories', remoteAddress: neighbour })).statusCode, 200)
  })

  test('probes are never limited', async () => {
    const remoteAddress = freshIp()
    for (let i = 0; i < 5; i++) {
      const res = await ipApp.app.inject({ url: '/healthz', remoteAddress })
      assert.equal(res.statusCode, 200)
      assert.equal(res.headers['ratelimit-limit'], undefined)
    }
  })
})

describe('per-user limits (after authentication)', () => {
  test('path variants (trailing slash, percent-encoding) share their route bucket; letter case is a 404', async () => {
    const headers = await userApp.auth(unique('rv'))
    const url = storyUrl()
    const variants = [url, `${url}/`, url.replace('/v1/stories/0', '/v1/stories/%30')]
    const seen = []
    for (const variant of variants) {
      const res = await userApp.app.inject({ url: variant, headers })
      seen.push([res.statusCode, res.headers['ratelimit-limit'], res.headers['ratelimit-remaining']])
    }
    assert.deepEqual(seen, [
      [404, '3', '2'],
      [404, '3', '1'],
      [404, '3', '0'],
    ])
    const upper = await userApp.app.inject({ url: url.toUpperCase(), headers })
    assert.equal(upper.statusCode, 404)
    assertProblem(await userApp.app.inject({ url, headers }), 429, 'rate_limited')
  })

  test('write and expensive are separate classes from read', async () => {
    const headers = await userApp.auth(unique('rw'))
    const create = () =>
      userApp.app.inject({ method: 'POST', url: '/v1/stories', headers, payload: { title: 't', body: 'b' } })
    assert.equal((await create()).statusCode, 201)
    assertProblem(await create(), 429, 'rate_limited')
    const patch = await userApp.app.inject({ method: 'PATCH', url: '/v1/me', headers, payload: { bio: 'x' } })
    assert.equal(patch.statusCode, 200)
    assert.equal(patch.headers['ratelimit-limit'], '2')
    assert.equal((await userApp.app.inject({ url: storyUrl(), headers })).headers['ratelimit-remaining'], '2')
  })

  test('only a verified admin role bypasses the per-user limits; headers or query strings do not', async () => {
    const admin = await userApp.auth(unique('ra'), { roles: ['admin'] })
    for (let i = 0; i < 6; i++) {
      const res = await userApp.app.inject({ url: storyUrl(), headers: admin })
      assert.equal(res.statusCode, 404)
      assert.notEqual(res.headers['ratelimit-limit'], '3')
    }
    const user = await userApp.auth(unique('rb'))
    const claims = { ...user, 'x-roles': 'admin', 'x-admin': 'true' }
    const codes = []
    for (let i = 0; i < 4; i++)
      codes.push((await userApp.app.inject({ url: `${storyUrl()}?role=admin`, headers: claims })).statusCode)
    assert.deepEqual(codes, [404, 404, 404, 429])
  })
})

describe('RATE_LIMIT_ENABLED=false', () => {
  test('nothing is limited and no headers are sent', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await offApp.app.inject({ url: '/v1/stories' })
      assert.equal(res.statusCode, 200)
      assert.equal(res.headers['ratelimit-limit'], undefined)
    }
  })
})
