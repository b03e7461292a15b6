import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { resolveClientIpOnce } from '../src/platform/http/client-ip.ts'

test('behind a trusted proxy the client address is resolved from X-Forwarded-For once per request', async () => {
  const app = Fastify({ trustProxy: ['10.0.0.1'] })
  let reads = 0
  // Counts what proxy-addr reads: the header, once per resolution of request.ip.
  app.addHook('onRequest', (request, _reply, done) => {
    const headers = request.raw.headers
    const forwarded = headers['x-forwarded-for']
    Object.defineProperty(headers, 'x-forwarded-for', {
      get() {
        reads++
        return forwarded
      },
      enumerable: true,
      configurable: true,
    })
    done()
  })
  resolveClientIpOnce(app)
  app.get('/ip', async (request) => [request.ip, request.ip, request.ip])

  const proxied = await app.inject({
    url: '/ip',
    remoteAddress: '10.0.0.1',
    headers: { 'x-forwarded-for': '203.0.113.7' },
  })
  assert.deepEqual(proxied.json(), ['203.0.113.7', '203.0.113.7', '203.0.113.7'])
  assert.equal(reads, 1, 'three reads of request.ip, one resolution')

  // From a peer that is not a trusted proxy, the header names nobody.
  const direct = await app.inject({
    url: '/ip',
    remoteAddress: '198.51.100.2',
    headers: { 'x-forwarded-for': '203.0.113.7' },
  })
  assert.deepEqual(direct.json(), ['198.51.100.2', '198.51.100.2', '198.51.100.2'])
})
