import assert from 'node:assert/strict'
import { type AddressInfo, connect } from 'node:net'
import { after, test } from 'node:test'
import { createStory, createUser, publishStory } from './helpers/api.ts'
import { buildTestApp, unique } from './helpers/app.ts'

// Requests refused before they reach a route (by Node's HTTP parser or by routing),
// over a real socket: app.inject cannot send malformed HTTP.
const t = await buildTestApp()
await t.app.listen({ host: '127.0.0.1', port: 0 })
const { port } = t.app.server.address() as AddressInfo
after(() => t.app.close())

/** Sends raw bytes; resolves with the status, headers and body the server wrote before closing or idling. */
function raw(request: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request))
    let data = ''
    const finish = () => {
      socket.destroy()
      const [head = '', body = ''] = data.split('\r\n\r\n')
      const [statusLine = '', ...lines] = head.split('\r\n')
      const headers = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      )
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body })
    }
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => {
      data += chunk
      // A keep-alive response does not close: stop once its body is complete.
      const length = /\r\ncontent-length: (\d+)/i.exec(data)?.[1]
      const start = data.indexOf('\r\n\r\n')
      if (length && start >= 0 && data.length - start - 4 >= Number(length)) finish()
    })
    socket.on('close', finish)
    socket.on('error', reject)
  })
}

function assertWireProblem(res: Awaited<ReturnType<typeof raw>>, status: number, code: string) {
  assert.equal(res.status, status, res.body)
  assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/)
  const body = JSON.parse(res.body)
  assert.equal(body.code, code)
  assert.equal(body.status, status)
  assert.equal(body.requestId, res.headers['x-request-id'])
  assert.equal(res.headers['x-content-type-options'], 'nosniff')
  assert.match(res.headers['content-security-policy'] ?? '', /default-src 'none'/)
}

test('headers over the limit are a 431 problem with the security headers', async () => {
  const res = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
  assertWireProblem(res, 431, 'headers_too_large')
  assert.equal(res.headers.connection, 'close')
})

test('malformed HTTP (a second Content-Length, a garbage request line) is a 400 problem', async () => {
  for (const request of [
    'POST /v1/stories HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\n{}',
    'GARBAGE\r\n\r\n',
  ]) {
    assertWireProblem(await raw(request), 400, 'bad_request')
  }
})

test('a URL routing cannot decode is a 400 invalid_text problem, logged and counted', async () => {
  const res = await raw('GET /v1/stories/%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assertWireProblem(res, 400, 'invalid_text')
  const metrics = await t.app.inject({ method: 'GET', url: '/metrics' })
  assert.match(metrics.body, /http_requests_total\{method="GET",route="unparsed",status="400"\} 1/)
  assert.match(metrics.body, /http_requests_total\{method="-",route="unparsed",status="431"\} 1/)
})

test('the API error cases over a real socket: status, problem+json, code, request id, headers', async () => {
  const alice = await createUser(t, unique('wire'))
  const bob = await createUser(t, unique('wire'))
  const draft = await createStory(t.app, alice.headers, { title: 'Draft' })
  const published = await publishStory(t.app, alice.headers, { title: 'Published' })
  const json = { 'content-type': 'application/json' }
  const cases: Array<[string, string, RequestInit, number, string]> = [
    ['unknown route', '/v1/nope', {}, 404, 'route_not_found'],
    [
      'malformed JSON',
      '/v1/stories',
      { method: 'POST', headers: { ...alice.headers, ...json }, body: '{"title":' },
      400,
      'malformed_json',
    ],
    [
      'over the body limit',
      '/v1/stories',
      {
        method: 'POST',
        headers: { ...alice.headers, ...json },
        body: JSON.stringify({ title: 'x', body: 'x'.repeat(1_100_000) }),
      },
      413,
      'payload_too_large',
    ],
    [
      'wrong content type',
      '/v1/stories',
      { method: 'POST', headers: { ...alice.headers, 'content-type': 'text/plain' }, body: 'hi' },
      415,
      'unsupported_media_type',
    ],
    [
      'validation',
      '/v1/stories',
      {
        method: 'POST',
        headers: { ...alice.headers, ...json },
        body: JSON.stringify({ title: '', body: 'b', likeCount: 5 }),
      },
      400,
      'validation_failed',
    ],
    ['no token', '/v1/me', {}, 401, 'unauthenticated'],
    ['bad token', '/v1/stories', { headers: { authorization: 'Bearer a.b.c' } }, 401, 'invalid_token'],
    [
      'forbidden',
      `/v1/stories/${published.id}`,
      { method: 'PATCH', headers: { ...bob.headers, ...json }, body: JSON.stringify({ title: 'mine now' }) },
      403,
      'forbidden',
    ],
    ["another user's draft", `/v1/stories/${draft.id}`, { headers: bob.headers }, 404, 'story_not_found'],
    [
      'NUL in text',
      '/v1/stories',
      {
        method: 'POST',
        headers: { ...alice.headers, ...json },
        body: JSON.stringify({ title: 'a\u0000b', body: 'b' }),
      },
      400,
      'invalid_text',
    ],
  ]
  for (const [name, path, init, status, code] of cases) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, init)
    const text = await res.text()
    assert.equal(res.status, status, `${name}: ${text.slice(0, 200)}`)
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, name)
    const body = JSON.parse(text)
    assert.equal(body.code, code, name)
    assert.equal(body.requestId, res.headers.get('x-request-id'), name)
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', name)
    if (status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/, name)
  }
})

test('the server keeps serving after every refusal', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`)
  assert.equal(res.status, 200)
})
