import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from './helpers/app.ts'

const t = await buildTestApp()

test('/openapi.json documents every public route with its schemas', async () => {
  const res = await t.app.inject({ method: 'GET', url: '/openapi.json' })
  assert.equal(res.statusCode, 200)
  const doc = res.json()
  assert.equal(doc.openapi, '3.1.0')
  const expected: Array<[string, string]> = [
    ['/v1/me', 'get'],
    ['/v1/me', 'patch'],
    ['/v1/profiles/{username}', 'get'],
    ['/v1/profiles/{username}/stories', 'get'],
    ['/v1/stories', 'get'],
    ['/v1/stories', 'post'],
    ['/v1/stories/{id}', 'get'],
    ['/v1/stories/{id}', 'patch'],
    ['/v1/stories/{id}', 'delete'],
    ['/v1/stories/{id}/publish', 'post'],
    ['/v1/stories/{id}/like', 'put'],
    ['/v1/stories/{id}/like', 'delete'],
    ['/v1/trending', 'get'],
    ['/healthz', 'get'],
    ['/readyz', 'get'],
  ]
  for (const [path, method] of expected) {
    const op = doc.paths[path]?.[method] ?? doc.paths[`${path}/`]?.[method]
    assert.ok(op, `${method.toUpperCase()} ${path} is missing from the OpenAPI document`)
    assert.ok(op.responses, `${method} ${path} has no responses`)
  }
  assert.ok(doc.paths['/v1/stories'].post.requestBody, 'request bodies are documented')
  assert.ok(doc.components.securitySchemes.bearerAuth)
})

test('/docs serves the API reference page', async () => {
  const res = await t.app.inject({ method: 'GET', url: '/docs' })
  const page = [301, 302].includes(res.statusCode)
    ? await t.app.inject({ method: 'GET', url: String(res.headers.location) })
    : res
  assert.equal(page.statusCode, 200)
  assert.match(String(page.headers['content-type']), /text\/html/)
  assert.match(page.body, /openapi\.json/)
  // Its own CSP (inline scripts), not the API's `default-src 'none'`; the rest stays.
  assert.match(String(page.headers['content-security-policy']), /script-src 'self' 'unsafe-inline'/)
  assert.doesNotMatch(String(page.headers['content-security-policy']), /default-src 'none'/)
  assert.equal(page.headers['x-content-type-options'], 'nosniff')
  // An HTML document gets helmet's document headers too.
  assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin')
})
