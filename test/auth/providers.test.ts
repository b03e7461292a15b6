import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { assertProblem } from '../helpers/api.ts'
import { buildTestApp } from '../helpers/app.ts'
import { startJwksServer } from './support/jwks-server.ts'
import { metricValue, profilesOf, providerApp } from './support/provider-app.ts'
import { AUDIENCE, ISSUER, makeKey, providerSettings, sign } from './support/tokens.ts'

const p = await providerApp({ AUTH_ROLES_CLAIM: 'app_metadata.roles' })

describe('tokens from an OIDC provider', () => {
  for (const name of ['rsa', 'ec', 'ed'] as const) {
    test(`a valid ${p.keys[name].alg} token is accepted and gets a profile`, async () => {
      const subject = `user-${randomUUID()}`
      const res = await p.me(await sign(p.keys[name], { subject, claims: { email: `${name}@example.test` } }))
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json().email, `${name}@example.test`)
      assert.equal(await profilesOf(p.t.platform.ctx.db, subject), 1)
    })
  }

  test('roles come from the configured claim path', async () => {
    const token = await sign(p.keys.rsa, {
      claims: { app_metadata: { roles: ['admin', 'editor'] }, roles: ['x'] },
    })
    const res = await p.me(token)
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(res.json().roles, ['admin', 'editor'])
  })

  test('a repeated token is served from the verified-token cache', async () => {
    const token = await sign(p.keys.ec)
    const before = await metricValue(p.t, 'auth_verifications_total{result="ok",cached="true"}')
    for (let i = 0; i < 3; i++) assert.equal((await p.me(token)).statusCode, 200)
    assert.equal(await metricValue(p.t, 'auth_verifications_total{result="ok",cached="true"}'), before + 2)
  })

  test('an invalid token is a 401 even on a public route', async () => {
    const token = await sign(p.keys.rsa, { issuer: 'https://elsewhere.example/' })
    const res = await p.t.app.inject({
      method: 'GET',
      url: '/v1/stories',
      headers: { authorization: `Bearer ${token}` },
    })
    assertProblem(res, 401, 'invalid_token')
    assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/)
    assert.equal((await p.t.app.inject({ method: 'GET', url: '/v1/stories' })).statusCode, 200)
  })

  test('an algorithm outside the allow-list is refused although the key is published', async () => {
    const ps = await makeKey('PS256')
    p.server.setKeys([...Object.values(p.keys).map((k) => k.jwk), ps.jwk])
    assertProblem(await p.me(await sign(ps)), 401, 'invalid_token')
  })

  test('clock skew: nbf and iat just ahead, or exp just past, within AUTH_CLOCK_SKEW_S are accepted', async () => {
    const now = Math.floor(Date.now() / 1000)
    for (const claims of [{ nbf: now + 20 }, { iat: now + 20 }, { exp: now - 20 }]) {
      const res = await p.me(await sign(p.keys.rsa, { claims, expiresIn: 'exp' in claims ? null : 3600 }))
      assert.equal(res.statusCode, 200, `${JSON.stringify(claims)}: ${res.body}`)
    }
    assertProblem(
      await p.me(await sign(p.keys.rsa, { claims: { exp: now - 40 }, expiresIn: null })),
      401,
      'token_expired',
    )
  })

  test('metrics: verifications by result, fetches by outcome and duration, key-set age', async () => {
    await p.me('not-a-token')
    const text = (await p.t.app.inject({ method: 'GET', url: '/metrics' })).body
    assert.match(text, /auth_verifications_total\{result="ok",cached="false"\} \d+/)
    assert.match(text, /auth_verifications_total\{result="invalid_token",cached="false"\} \d+/)
    assert.match(text, /auth_jwks_fetches_total\{outcome="ok"\} \d+/)
    assert.match(text, /auth_jwks_fetch_duration_seconds_count\{outcome="ok"\} \d+/)
    const age = await metricValue(p.t, 'auth_jwks_age_seconds')
    assert.ok(age >= 0 && age < 600, `age ${age}`)
    // The PS256 key published above fits no allowed algorithm, so it is not among the keys.
    assert.equal(await metricValue(p.t, 'auth_jwks_keys'), 3)
  })
})

describe('configuration', () => {
  test('the JWKS URL is discovered from AUTH_ISSUER when AUTH_JWKS_URL is unset', async () => {
    const key = await makeKey('RS256')
    const server = await startJwksServer([key.jwk])
    const issuer = `${server.url}/tenant/`
    server.setDiscovery({ issuer, jwks_uri: server.jwksUrl })
    const { AUTH_JWKS_URL: _unset, ...settings } = providerSettings(server.jwksUrl, {
      AUTH_ISSUER: issuer,
      AUTH_AUDIENCE: 'api',
    })
    const t = await buildTestApp(settings)
    const token = await sign(key, { issuer, audience: 'api' })
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${token}` },
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(server.hits('/tenant/.well-known/openid-configuration'), 1)
    assert.equal(server.hits(), 1)
  })

  test('HMAC in AUTH_ALGORITHMS is ignored, never accepted', async () => {
    const key = await makeKey('RS256')
    const server = await startJwksServer([key.jwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' }])
    const t = await buildTestApp(providerSettings(server.jwksUrl, { AUTH_ALGORITHMS: 'RS256,HS256' }))
    const { SignJWT } = await import('jose')
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'hmac' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('hs-user')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('secret'))
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${hs}` },
    })
    assertProblem(res, 401, 'invalid_token')
    assert.equal(await profilesOf(t.platform.ctx.db, 'hs-user'), 0)
  })
})

describe('development identity provider', () => {
  test('dev tokens go through the same key store and verifier', async () => {
    const t = await buildTestApp({ SHED_MAX_EVENT_LOOP_DELAY_MS: '0' })
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: await t.auth(`dev-${randomUUID()}`),
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(await metricValue(t, 'auth_jwks_fetches_total{outcome="ok"}'), 1)
    assert.equal(await metricValue(t, 'auth_verifications_total{result="ok",cached="false"}'), 1)
    const forged = await sign(await makeKey('ES256'), { issuer: 'inkwell-dev-idp', audience: 'inkwell' })
    const refused = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${forged}` },
    })
    assertProblem(refused, 401, 'invalid_token')
  })
})
