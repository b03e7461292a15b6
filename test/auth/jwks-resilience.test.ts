import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { assertProblem } from '../helpers/api.ts'
import { metricValue, profilesOf, providerApp } from './support/provider-app.ts'
import { makeKey, sign } from './support/tokens.ts'

describe('key rotation', () => {
  test('a new kid is accepted without restart; tokens of a removed key stop working, cached or not', async () => {
    const p = await providerApp()
    const oldToken = await sign(p.keys.rsa)
    assert.equal((await p.me(oldToken)).statusCode, 200)
    assert.equal((await p.me(oldToken)).statusCode, 200)
    const rotated = await makeKey('RS256')
    p.server.setKeys([rotated.jwk, p.keys.ec.jwk, p.keys.ed.jwk])
    const fetchesBefore = p.server.hits()

    assert.equal((await p.me(await sign(rotated))).statusCode, 200)
    assert.equal(p.server.hits(), fetchesBefore + 1)
    // Verified before the rotation and still unexpired, but its key has left the set.
    assertProblem(await p.me(oldToken), 401, 'invalid_token')
    assertProblem(await p.me(await sign(p.keys.rsa)), 401, 'invalid_token')
    assert.equal((await p.me(await sign(p.keys.ec))).statusCode, 200)
  })
})

describe('unknown-kid storm', () => {
  test('1,000 concurrent requests with random kids cause one JWKS fetch, and none within the cooldown', async () => {
    const p = await providerApp()
    assert.equal((await p.me(await sign(p.keys.ec))).statusCode, 200)
    const fetchesBefore = p.server.hits()
    const attacker = await makeKey('ES256')
    const tokens = await Promise.all(
      Array.from({ length: 1000 }, () =>
        sign({ ...attacker, kid: randomUUID() }, { subject: `storm-${randomUUID()}` }),
      ),
    )
    const storm = () => Promise.all(tokens.map((token) => p.me(token)))

    const first = await storm()
    assert.ok(first.every((res) => res.statusCode === 401 && res.json().code === 'invalid_token'))
    assert.equal(p.server.hits(), fetchesBefore + 1)
    await storm()
    assert.equal(p.server.hits(), fetchesBefore + 1)
    assert.equal((await p.me(await sign(p.keys.ed))).statusCode, 200)
  })
})

describe('JWKS endpoint down', () => {
  test('with the key cached: new tokens of that key are accepted; an unknown kid is a 503 with Retry-After', async () => {
    const p = await providerApp()
    assert.equal((await p.me(await sign(p.keys.rsa))).statusCode, 200)
    for (const mode of ['error', 'drop'] as const) {
      p.server.setMode(mode)
      const subject = `user-${randomUUID()}`
      const res = await p.me(await sign(p.keys.rsa, { subject }))
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(await profilesOf(p.t.platform.ctx.db, subject), 1)
    }
    const fetchesBefore = p.server.hits()
    const unknown = await makeKey('RS256')
    const refused = await p.me(await sign(unknown))
    assertProblem(refused, 503, 'auth_unavailable')
    assert.ok(Number(refused.headers['retry-after']) >= 1)
    assertProblem(await p.me(await sign(unknown)), 503, 'auth_unavailable')
    // One attempt for the unknown kid; the second request waits out the cooldown instead.
    assert.equal(p.server.hits(), fetchesBefore + 1)
    assert.ok((await metricValue(p.t, 'auth_jwks_fetches_total{outcome="network_error"}')) >= 1)
  })

  test('with nothing cached: 503 auth_unavailable with Retry-After, nothing stored', async () => {
    const p = await providerApp({}, 'error')
    await p.t.platform.auth.keys.warm()
    const subject = `user-${randomUUID()}`
    const res = await p.me(await sign(p.keys.ec, { subject }))
    assertProblem(res, 503, 'auth_unavailable')
    assert.ok(Number(res.headers['retry-after']) >= 1)
    assert.equal(await profilesOf(p.t.platform.ctx.db, subject), 0)
    // The failed start-up fetch opened a cooldown: requests do not hammer the provider.
    assert.equal(p.server.hits(), 1)
  })
})

describe('JWKS endpoint slower than AUTH_JWKS_TIMEOUT_MS', () => {
  test('nothing cached: the fetch is abandoned and the request gets 503', async () => {
    const p = await providerApp({ AUTH_JWKS_TIMEOUT_MS: '200' }, 'hang')
    const res = await p.me(await sign(p.keys.rsa))
    assertProblem(res, 503, 'auth_unavailable')
    assert.equal(await metricValue(p.t, 'auth_jwks_fetches_total{outcome="timeout"}'), 1)
  })

  test('key cached: its tokens keep working; an unknown kid waits at most the timeout, then 503', async () => {
    // Long enough for the first, healthy fetch on a loaded machine; the hanging one then times out.
    const p = await providerApp({ AUTH_JWKS_TIMEOUT_MS: '5000' })
    assert.equal((await p.me(await sign(p.keys.ed))).statusCode, 200)
    p.server.setMode('hang')
    assert.equal((await p.me(await sign(p.keys.ed))).statusCode, 200)
    assertProblem(await p.me(await sign(await makeKey('EdDSA'))), 503, 'auth_unavailable')
    assert.equal((await p.me(await sign(p.keys.ed))).statusCode, 200)
    assert.equal(await metricValue(p.t, 'auth_jwks_fetches_total{outcome="timeout"}'), 1)
  })
})
