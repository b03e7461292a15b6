import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, test } from 'node:test'
import { LoadFailure, remoteJwksLoader } from '../../src/platform/auth/jwks-source.ts'
import { storeWith } from './support/fake-loader.ts'
import { startJwksServer } from './support/jwks-server.ts'
import { makeKey } from './support/tokens.ts'

const key = await makeKey('ES256', 'k1')
const signal = () => AbortSignal.timeout(5000)

async function failure(promise: Promise<unknown>): Promise<LoadFailure> {
  const err = await promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  )
  assert.ok(err instanceof LoadFailure, `expected a LoadFailure, got ${err}`)
  return err
}

describe('remote JWKS loader', () => {
  test('fetches the configured URL', async () => {
    const server = await startJwksServer([key.jwk])
    const load = remoteJwksLoader({ jwksUrl: server.jwksUrl, issuer: 'unused' })
    assert.deepEqual(await load(signal()), { keys: [key.jwk] })
    assert.equal(server.hits(), 1)
  })

  test('HTTP errors, dropped connections and non-JSON bodies are typed failures', async () => {
    const server = await startJwksServer([key.jwk])
    const load = remoteJwksLoader({ jwksUrl: server.jwksUrl, issuer: 'unused' })
    server.setMode('error')
    assert.equal((await failure(load(signal()))).outcome, 'http_error')
    server.setMode('drop')
    assert.equal((await failure(load(signal()))).outcome, 'network_error')
    const wrong = remoteJwksLoader({ jwksUrl: `${server.url}/nothing`, issuer: 'unused' })
    server.setMode('ok')
    assert.equal((await failure(wrong(signal()))).status, 404)
  })

  test('a body that is not JSON or is too large is refused', async () => {
    const server = createServer((request, response) => {
      if (request.url === '/text') response.end('<html>')
      else response.end(`{"keys":[],"pad":"${'x'.repeat(600 * 1024)}"}`)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    after(() => server.close())
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const text = remoteJwksLoader({ jwksUrl: `${base}/text`, issuer: 'unused' })
    assert.equal((await failure(text(signal()))).outcome, 'invalid_response')
    const big = remoteJwksLoader({ jwksUrl: `${base}/big`, issuer: 'unused' })
    assert.match((await failure(big(signal()))).message, /too large/)
  })

  test('discovers jwks_uri from the issuer, and only for a matching issuer', async () => {
    const server = await startJwksServer([key.jwk])
    const issuer = `${server.url}/`
    server.setDiscovery({ issuer, jwks_uri: server.jwksUrl })
    const load = remoteJwksLoader({ issuer })
    assert.deepEqual(await load(signal()), { keys: [key.jwk] })
    await load(signal())
    assert.equal(server.hits('/.well-known/openid-configuration'), 1)
    assert.equal(server.hits(), 2)

    server.setDiscovery({ issuer: 'https://someone-else.example/', jwks_uri: server.jwksUrl })
    const mismatched = remoteJwksLoader({ issuer })
    assert.equal((await failure(mismatched(signal()))).outcome, 'discovery_failed')
    server.setDiscovery(null)
    assert.equal((await failure(remoteJwksLoader({ issuer })(signal()))).outcome, 'discovery_failed')
  })

  test('a jwks_uri that is not an http(s) URL is refused', async () => {
    const server = await startJwksServer([key.jwk])
    const issuer = server.url
    for (const jwksUri of ['not a url', 'file:///etc/passwd', 42]) {
      server.setDiscovery({ issuer, jwks_uri: jwksUri })
      assert.equal((await failure(remoteJwksLoader({ issuer })(signal()))).outcome, 'discovery_failed')
    }
    assert.equal(server.hits(), 0)
  })

  test('a JWKS endpoint slower than the timeout is abandoned by the key store', async () => {
    const server = await startJwksServer([key.jwk])
    server.setMode('hang')
    const { store, outcomes } = storeWith(remoteJwksLoader({ jwksUrl: server.jwksUrl, issuer: 'unused' }), {
      timeoutMs: 150,
    })
    await assert.rejects(store.resolve('k1', 'ES256'), { code: 'auth_unavailable' })
    assert.deepEqual(outcomes, ['timeout'])
    assert.equal(server.hits(), 1)
  })
})
