import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import { rowsOf } from '../src/platform/db/rows.ts'
import { newRequestId } from '../src/platform/http/request-id.ts'
import { assertProblem, createUser, publishStory } from './helpers/api.ts'
import { buildTestApp, unique } from './helpers/app.ts'

const t = await buildTestApp({ BODY_LIMIT_BYTES: '200000', CORS_ORIGINS: 'https://app.example.com' })
const { app } = t
const alice = await createUser(t, unique('edge'))

describe('errors at the edge', () => {
  test('an unknown route is a 404 problem', async () => {
    assertProblem(await app.inject({ method: 'GET', url: '/v1/nope' }), 404, 'route_not_found')
  })

  test('malformed JSON is a 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: { ...alice.headers, 'content-type': 'application/json' },
      payload: '{"title": "x", ',
    })
    assertProblem(res, 400, 'malformed_json')
  })

  test('a prototype-poisoning body is refused', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: { ...alice.headers, 'content-type': 'application/json' },
      payload: '{"title":"x","body":"y","__proto__":{"admin":true}}',
    })
    assert.equal(res.statusCode, 400)
  })

  test('a body over BODY_LIMIT_BYTES is a 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: alice.headers,
      payload: { title: 'big', body: 'x'.repeat(250_000) },
    })
    assertProblem(res, 413, 'payload_too_large')
  })

  test('a wrong content type is a 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: { ...alice.headers, 'content-type': 'text/plain' },
      payload: 'title=x',
    })
    assertProblem(res, 415, 'unsupported_media_type')
  })

  test('a body that is not UTF-8 is a 400 invalid_text, never stored with replacement characters', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: { ...alice.headers, 'content-type': 'application/json' },
      payload: Buffer.concat([
        Buffer.from('{"title":"a","body":"x'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('y"}'),
      ]),
    })
    assertProblem(res, 400, 'invalid_text')
    const [stored] = await rowsOf<{ n: number }>(
      app.ctx.db.execute(sql`SELECT count(*)::int AS n FROM stories WHERE body LIKE ${'%\uFFFD%'}`),
    )
    assert.equal(stored!.n, 0)
  })

  test('a malformed or non-UTF-8 percent-escape in the path or query string is a 400 invalid_text', async () => {
    for (const url of [
      '/v1/stories?author=%ff%fe',
      '/v1/stories?tag=%zz',
      '/v1/stories/%ff',
      '/v1/profiles/%c3',
    ]) {
      const res = await app.inject({ method: 'GET', url })
      const body = assertProblem(res, 400, 'invalid_text')
      assert.equal(body.requestId, res.headers['x-request-id'])
      assert.equal(res.headers['x-content-type-options'], 'nosniff', `${url} carries the security headers`)
    }
    // Valid escapes are decoded and validated as usual.
    assertProblem(
      await app.inject({ method: 'GET', url: '/v1/stories?tag=caf%C3%A9' }),
      400,
      'validation_failed',
    )
    assert.equal((await app.inject({ method: 'GET', url: '/v1/stories?tag=a%2Db' })).statusCode, 200)
  })

  test('JSON nested past 32 levels is a 400, however deep (no stack overflow, no 500)', async () => {
    // 90,000 levels is 180 KB, under this app's BODY_LIMIT_BYTES.
    for (const depth of [40, 2000, 90_000]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/stories',
        headers: { ...alice.headers, 'content-type': 'application/json' },
        payload: `{"title":"a","body":"b","tags":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      })
      assert.equal(res.statusCode, 400, `depth ${depth}: ${res.body.slice(0, 200)}`)
      assert.match(res.json().code, /^(bad_request|malformed_json)$/)
    }
  })

  test('a compressed body (Content-Encoding) is a 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/stories',
      headers: { ...alice.headers, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: '{"title":"a","body":"b"}',
    })
    assertProblem(res, 415, 'unsupported_media_type')
  })

  test('fields sent to a route that takes no body are refused, never ignored', async () => {
    const story = await publishStory(app, alice.headers, { title: 'No body please' })
    const cases: Array<['POST' | 'PUT' | 'DELETE', string, object]> = [
      ['POST', `/v1/stories/${story.id}/publish`, { status: 'draft', authorId: 'x' }],
      ['PUT', `/v1/stories/${story.id}/like`, { likeCount: 99 }],
      ['DELETE', `/v1/stories/${story.id}/like`, { likeCount: 0 }],
      ['DELETE', `/v1/stories/${story.id}`, { deletedAt: null }],
    ]
    for (const [method, url, payload] of cases) {
      const res = await app.inject({ method, url, headers: alice.headers, payload })
      const body = assertProblem(res, 400, 'validation_failed')
      assert.ok(body.errors.length > 0, `${method} ${url} names the refused fields`)
    }
    const after = await app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })
    assert.equal(after.statusCode, 200, 'the story was not deleted')
    assert.equal(after.json().likeCount, 0)
    // An empty object is no field at all.
    const liked = await app.inject({
      method: 'PUT',
      url: `/v1/stories/${story.id}/like`,
      headers: alice.headers,
      payload: {},
    })
    assert.equal(liked.statusCode, 200)
    // An unknown route stays a 404 whatever its body.
    assertProblem(
      await app.inject({ method: 'POST', url: '/v1/nope', payload: { a: 1 } }),
      404,
      'route_not_found',
    )
  })

  test('a path segment over the limit is a 414 problem', async () => {
    assertProblem(
      await app.inject({ method: 'GET', url: `/v1/stories/${'a'.repeat(300)}` }),
      414,
      'uri_too_long',
    )
  })

  test('a malformed Authorization header or token is a 401 invalid_token, even on a public route', async () => {
    for (const authorization of ['Basic abc', 'Bearer', 'Bearer a.b.c', `Bearer ${'x'.repeat(9000)}`]) {
      const res = await app.inject({ method: 'GET', url: '/v1/stories', headers: { authorization } })
      assertProblem(res, 401, 'invalid_token')
      assert.match(String(res.headers['www-authenticate']), /^Bearer/)
    }
  })

  test('an expired token is a 401 token_expired', async () => {
    const token = await t.token(unique('late'), { ttlSeconds: -120 })
    const res = await app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${token}` },
    })
    assertProblem(res, 401, 'token_expired')
  })

  test('a 5xx body says nothing internal', async () => {
    // A bug deep in a query: the statement fails with internal detail in its message.
    t.platform.ctx.database.setStatementHook(() => {
      throw new Error('relation "stories" secret internals at pglite/postgres select')
    })
    try {
      const res = await app.inject({ method: 'GET', url: '/v1/stories' })
      const body = assertProblem(res, 500, 'internal_error')
      assert.equal(body.detail, 'An unexpected error occurred')
      assert.doesNotMatch(res.body, /stack|secret|pglite|postgres|select|relation/i)
    } finally {
      t.platform.ctx.database.setStatementHook(null)
    }
  })

  test('a database that is down is a 503 with Retry-After, not a 500', async () => {
    const broken = await buildTestApp()
    await broken.platform.ctx.database.close()
    const res = await broken.app.inject({ method: 'GET', url: '/v1/stories' })
    if (broken.platform.ctx.database.kind === 'postgres') {
      assertProblem(res, 503, 'service_unavailable')
      assert.ok(res.headers['retry-after'])
    } else {
      // A closed embedded store is not a transient outage: it stays a 500, without detail.
      assertProblem(res, 500, 'internal_error')
    }
  })
})

describe('request ids, headers and CORS', () => {
  test('a well-formed X-Request-Id is echoed; a malformed one is replaced', async () => {
    const ok = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'req-123.abc' },
    })
    assert.equal(ok.headers['x-request-id'], 'req-123.abc')
    const bad = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\nx' } })
    assert.notEqual(bad.headers['x-request-id'], 'bad id\nx')
    assert.match(String(bad.headers['x-request-id']), /^[0-9a-f-]{36}$/)
  })

  test('generated request ids are UUIDv7s, unique and increasing', () => {
    const ids = Array.from({ length: 5000 }, () => newRequestId())
    for (const id of ids)
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(new Set(ids).size, ids.length)
    assert.ok(
      ids.every((id, i) => i === 0 || id > ids[i - 1]!),
      'each id sorts after the one before',
    )
    // Time-ordered: the first 48 bits are the creation time in ms.
    const ms = Number.parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)
    assert.ok(Math.abs(ms - Date.now()) < 60_000)
  })

  test('security headers are on every response, errors included', async () => {
    for (const url of ['/v1/stories', '/v1/nope', '/v1/stories/not-a-uuid']) {
      const res = await app.inject({ method: 'GET', url })
      assert.equal(res.headers['cross-origin-resource-policy'], 'same-site')
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/)
      assert.equal(res.headers['x-content-type-options'], 'nosniff')
      assert.match(String(res.headers['content-security-policy']), /default-src 'none'/)
      assert.ok(res.headers['strict-transport-security'])
      assert.equal(res.headers['x-frame-options'], 'DENY')
      assert.equal(res.headers['referrer-policy'], 'no-referrer')
      // Headers that only mean something for HTML documents are not sent with JSON.
      assert.equal(res.headers['x-xss-protection'], undefined)
      assert.equal(res.headers['cross-origin-opener-policy'], undefined)
    }
  })

  test('CORS admits CORS_ORIGINS and localhost in development, nothing else', async () => {
    const preflight = (origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/v1/stories',
        headers: { origin, 'access-control-request-method': 'POST' },
      })
    assert.equal(
      (await preflight('https://app.example.com')).headers['access-control-allow-origin'],
      'https://app.example.com',
    )
    assert.equal(
      (await preflight('http://localhost:5173')).headers['access-control-allow-origin'],
      'http://localhost:5173',
    )
    assert.equal(
      (await preflight('https://evil.example.net')).headers['access-control-allow-origin'],
      undefined,
    )
  })

  test('CORS answers requests with an Origin; those without get Vary: Origin and nothing else', async () => {
    const withOrigin = await app.inject({
      method: 'GET',
      url: '/v1/stories',
      headers: { origin: 'https://app.example.com' },
    })
    assert.equal(withOrigin.headers['access-control-allow-origin'], 'https://app.example.com')
    assert.match(String(withOrigin.headers['access-control-expose-headers']), /etag/)
    assert.equal(withOrigin.headers.vary, 'Origin')
    const without = await app.inject({ method: 'GET', url: '/v1/stories' })
    assert.equal(without.statusCode, 200)
    assert.equal(without.headers.vary, 'Origin')
    assert.equal(without.headers['access-control-allow-origin'], undefined)
    assert.equal(without.headers['access-control-expose-headers'], undefined)
    // A preflight needs an Origin: without one there is no such route.
    const bare = await app.inject({
      method: 'OPTIONS',
      url: '/v1/stories',
      headers: { 'access-control-request-method': 'POST' },
    })
    assert.equal(bare.statusCode, 404)
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/v1/stories',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    })
    assert.equal(preflight.statusCode, 204)
    assert.match(String(preflight.headers['access-control-allow-methods']), /PATCH/)
    assert.equal(preflight.headers['access-control-max-age'], '600')
  })

  test('trailing slashes reach the same route', async () => {
    const story = await publishStory(app, alice.headers)
    assert.equal((await app.inject({ method: 'GET', url: `/v1/stories/${story.id}/` })).statusCode, 200)
  })
})
