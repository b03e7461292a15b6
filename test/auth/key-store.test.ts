import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { AppError } from '../../src/platform/http/errors.ts'
import { fakeLoader, storeWith } from './support/fake-loader.ts'
import { makeKey } from './support/tokens.ts'

const rsa = await makeKey('RS256', 'rsa-1')
const ec = await makeKey('ES256', 'ec-1')
const next = await makeKey('RS256', 'rsa-2')
const jwks = (...keys: { jwk: object }[]) => ({ keys: keys.map((k) => k.jwk) })

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${err}`)
    return err
  }
  assert.fail('expected a refusal')
}

describe('key store: caching', () => {
  test('concurrent first requests share one fetch', async () => {
    const loader = fakeLoader(jwks(rsa, ec))
    const { store } = storeWith(loader.load)
    const keys = await Promise.all(Array.from({ length: 100 }, () => store.resolve('rsa-1', 'RS256')))
    assert.equal(loader.calls, 1)
    assert.equal(new Set(keys.map((k) => k.id)).size, 1)
    assert.equal(store.size(), 2)
  })

  test('a fresh set is served without fetching; from 80% of the cache time it is refreshed ahead', async () => {
    const loader = fakeLoader(jwks(rsa))
    const { store, advance } = storeWith(loader.load)
    await store.resolve('rsa-1', 'RS256')
    advance(479)
    await store.resolve('rsa-1', 'RS256')
    assert.equal(loader.calls, 1)
    advance(2)
    await store.resolve('rsa-1', 'RS256')
    await store.warm()
    assert.equal(loader.calls, 2)
    assert.equal(store.ageSeconds(), 0)
  })

  test('a stale set is revalidated before use, and rotation forgets the removed key', async () => {
    const loader = fakeLoader(jwks(rsa))
    const { store, advance, removed } = storeWith(loader.load)
    const old = await store.resolve('rsa-1', 'RS256')
    loader.answer(jwks(next))
    advance(601)
    assert.equal((await refusal(store.resolve('rsa-1', 'RS256'))).code, 'invalid_token')
    assert.equal(loader.calls, 2)
    assert.deepEqual(removed, [old.id])
    assert.equal(store.canReuse(old.id), false)
    await store.resolve('rsa-2', 'RS256')
  })

  test('the same kid with new key material counts as a removed key', async () => {
    const loader = fakeLoader(jwks(rsa))
    const { store, advance, removed } = storeWith(loader.load)
    const old = await store.resolve('rsa-1', 'RS256')
    const replacement = await makeKey('RS256', 'rsa-1')
    loader.answer(jwks(replacement))
    advance(601)
    const fresh = await store.resolve('rsa-1', 'RS256')
    assert.notEqual(fresh.id, old.id)
    assert.deepEqual(removed, [old.id])
  })
})

describe('key store: unknown kids', () => {
  test('1,000 concurrent unknown kids cause one refetch per cooldown window', async () => {
    const loader = fakeLoader(jwks(rsa))
    const { store, advance } = storeWith(loader.load)
    await store.resolve('rsa-1', 'RS256')
    advance(1)
    const storm = () =>
      Promise.all(Array.from({ length: 1000 }, () => refusal(store.resolve(randomUUID(), 'RS256'))))
    const errors = await storm()
    assert.ok(errors.every((e) => e.code === 'invalid_token'))
    assert.equal(loader.calls, 2)
    advance(29)
    await storm()
    assert.equal(loader.calls, 2)
    advance(2)
    await storm()
    assert.equal(loader.calls, 3)
  })

  test('a new kid is picked up by the refetch (rotation without restart)', async () => {
    const loader = fakeLoader(jwks(rsa))
    const { store, advance } = storeWith(loader.load)
    await store.resolve('rsa-1', 'RS256')
    loader.answer(jwks(rsa, next))
    advance(5)
    await store.resolve('rsa-2', 'RS256')
    assert.equal(loader.calls, 2)
  })

  test('no refetch when the set was fetched after the request arrived', async () => {
    const loader = fakeLoader(jwks(rsa))
    const { store } = storeWith(loader.load)
    await refusal(store.resolve('unknown', 'RS256'))
    assert.equal(loader.calls, 1)
  })

  test('a kid whose key does not fit the algorithm is refused without a refetch', async () => {
    const loader = fakeLoader(jwks(rsa, ec))
    const { store, advance } = storeWith(loader.load)
    await store.resolve('rsa-1', 'RS256')
    advance(60)
    assert.equal((await refusal(store.resolve('ec-1', 'RS256'))).code, 'invalid_token')
    assert.equal((await refusal(store.resolve('rsa-1', 'PS256'))).code, 'invalid_token')
    assert.equal(loader.calls, 1)
  })

  test('without a kid, only a single fitting key is used', async () => {
    const one = storeWith(fakeLoader(jwks(rsa, ec)).load).store
    assert.ok(await one.resolve(undefined, 'ES256'))
    const two = storeWith(fakeLoader(jwks(rsa, next)).load).store
    assert.equal((await refusal(two.resolve(undefined, 'RS256'))).code, 'invalid_token')
  })
})

describe('key store: provider outages', () => {
  test('no keys and the provider down: 503 with Retry-After, one attempt per cooldown', async () => {
    const loader = fakeLoader(jwks(rsa))
    loader.answer('fail')
    const { store, advance, outcomes } = storeWith(loader.load)
    const first = await refusal(store.resolve('rsa-1', 'RS256'))
    assert.equal(first.code, 'auth_unavailable')
    assert.equal(first.options.headers?.['retry-after'], '30')
    advance(10)
    const second = await refusal(store.resolve('rsa-1', 'RS256'))
    assert.equal(second.options.headers?.['retry-after'], '20')
    assert.equal(loader.calls, 1)
    assert.deepEqual(outcomes, ['network_error'])
    loader.answer(jwks(rsa))
    advance(21)
    await store.resolve('rsa-1', 'RS256')
    assert.equal(loader.calls, 2)
  })

  test('cached keys keep working past the cache time while the provider is down, up to max stale', async () => {
    const loader = fakeLoader(jwks(rsa))
    const { store, advance } = storeWith(loader.load)
    const key = await store.resolve('rsa-1', 'RS256')
    loader.answer('fail')
    advance(700)
    assert.equal((await store.resolve('rsa-1', 'RS256')).id, key.id)
    assert.equal(store.canReuse(key.id), true)
    assert.equal(loader.calls, 2)
    advance(3000)
    assert.equal((await store.resolve('rsa-1', 'RS256')).id, key.id)
    advance(1000)
    assert.equal((await refusal(store.resolve('rsa-1', 'RS256'))).code, 'auth_unavailable')
    assert.equal(store.canReuse(key.id), false)
  })

  test('an unknown kid while the provider is down is a 503, not a 401', async () => {
    const loader = fakeLoader(jwks(rsa))
    const { store, advance } = storeWith(loader.load)
    await store.resolve('rsa-1', 'RS256')
    loader.answer('fail')
    advance(5)
    assert.equal((await refusal(store.resolve('rsa-2', 'RS256'))).code, 'auth_unavailable')
    assert.equal((await refusal(store.resolve('rsa-3', 'RS256'))).code, 'auth_unavailable')
    assert.equal(loader.calls, 2)
    await store.resolve('rsa-1', 'RS256')
  })

  test('a fetch past the timeout is abandoned and counted as a timeout', async () => {
    const loader = fakeLoader(jwks(rsa))
    loader.answer('hang')
    const { store, outcomes } = storeWith(loader.load, { timeoutMs: 100 })
    assert.equal((await refusal(store.resolve('rsa-1', 'RS256'))).code, 'auth_unavailable')
    assert.deepEqual(outcomes, ['timeout'])
  })

  test('a set with no usable key is a failed fetch; the previous keys stay', async () => {
    const loader = fakeLoader(jwks(rsa))
    const { store, advance, outcomes } = storeWith(loader.load)
    await store.resolve('rsa-1', 'RS256')
    loader.answer({ keys: [] })
    advance(601)
    await store.resolve('rsa-1', 'RS256')
    assert.deepEqual(outcomes, ['ok', 'invalid_response'])
  })

  test('close aborts and stops fetching', async () => {
    const loader = fakeLoader(jwks(rsa))
    const { store } = storeWith(loader.load)
    store.close()
    assert.equal((await refusal(store.resolve('rsa-1', 'RS256'))).code, 'auth_unavailable')
    assert.equal(loader.calls, 0)
  })
})
