import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import { assertProblem } from '../helpers/api.ts'
import { buildAttacks } from './support/attacks.ts'
import { startJwksServer } from './support/jwks-server.ts'
import { countRows, providerApp } from './support/provider-app.ts'
import { makeKey } from './support/tokens.ts'

const p = await providerApp()
// A server the attack tokens point at (jku, x5u): the verifier must never contact it.
const elsewhere = await startJwksServer([(await makeKey('RS256')).jwk])
const attacks = await buildAttacks(p.keys, elsewhere.url)
const marker = `attack-story-${randomUUID()}`
const db = p.t.platform.ctx.db

function requestsWith(token: string) {
  const headers = { authorization: `Bearer ${token}` }
  return [
    p.t.app.inject({ method: 'GET', url: '/v1/me', headers }),
    p.t.app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers,
      payload: { title: marker, body: 'Written by a forged token.', tags: [] },
    }),
    // A public route: a present but invalid token is refused there too.
    p.t.app.inject({ method: 'GET', url: '/v1/stories', headers }),
  ]
}

describe('attack suite: every forged or invalid token is a 401 and stores nothing', () => {
  for (const attack of attacks) {
    test(attack.name, async () => {
      for (const res of await Promise.all(requestsWith(attack.token))) {
        const body = assertProblem(res, 401, attack.code)
        assert.match(
          String(res.headers['www-authenticate']),
          /^Bearer realm="inkwell", error="invalid_token"/,
        )
        // The body names the code only, never the check that failed.
        assert.match(body.detail, /^The access token (is invalid|expired)$/)
      }
      assert.equal(
        await countRows(db, sql`SELECT count(*)::int AS n FROM profiles WHERE subject = ${attack.subject}`),
        0,
      )
    })
  }

  test('no attack created a profile or a story, and nothing fetched the attacker URLs', async () => {
    const subjects = attacks.map((a) => a.subject)
    const profiles = await countRows(
      db,
      sql`SELECT count(*)::int AS n FROM profiles WHERE subject IN (${sql.join(subjects, sql`, `)})`,
    )
    assert.equal(profiles, 0)
    assert.equal(await countRows(db, sql`SELECT count(*)::int AS n FROM stories WHERE title = ${marker}`), 0)
    assert.equal(elsewhere.hits('/jwks.json') + elsewhere.hits('/cert.pem'), 0)
  })

  test('the suite can fail: a genuine token through the same requests is accepted and stored', async () => {
    const { sign } = await import('./support/tokens.ts')
    const subject = `control-${randomUUID()}`
    const [me, created] = await Promise.all(requestsWith(await sign(p.keys.rsa, { subject })).slice(0, 2))
    assert.equal(me!.statusCode, 200, me!.body)
    assert.equal(created!.statusCode, 201, created!.body)
    assert.equal(
      await countRows(db, sql`SELECT count(*)::int AS n FROM profiles WHERE subject = ${subject}`),
      1,
    )
  })

  test('a token with spaces or control characters is an invalid token', async () => {
    for (const authorization of ['Bearer abc def.ghi.jkl', 'bearer a.b.c\u0000', 'BEARER  x']) {
      const res = await p.t.app.inject({ method: 'GET', url: '/v1/stories', headers: { authorization } })
      assertProblem(res, 401, 'invalid_token')
      assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/)
    }
  })

  test('a header other than Bearer is refused as an invalid request', async () => {
    const res = await p.t.app.inject({
      method: 'GET',
      url: '/v1/stories',
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    })
    assertProblem(res, 401, 'invalid_token')
    assert.match(String(res.headers['www-authenticate']), /error="invalid_request"/)
  })
})
