import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { algorithmsForJwk, parseAlgorithms } from '../../src/platform/auth/algorithms.ts'
import { readClaim, rolesOf, toIdentity } from '../../src/platform/auth/claims.ts'
import { AppError } from '../../src/platform/http/errors.ts'

describe('roles claim mapping', () => {
  const payload = {
    sub: 'u1',
    roles: ['reader'],
    app_metadata: { roles: ['admin', 'editor'] },
    realm_access: { roles: ['kc-admin'] },
    'https://inkwell.example/roles': ['ns-admin'],
    'cognito:groups': ['group-a'],
    scope: 'openid stories:write',
  }

  test('dot paths, namespaced URL claims and provider-specific names', () => {
    assert.deepEqual(rolesOf(payload, 'app_metadata.roles'), ['admin', 'editor'])
    assert.deepEqual(rolesOf(payload, 'realm_access.roles'), ['kc-admin'])
    assert.deepEqual(rolesOf(payload, 'https://inkwell.example/roles'), ['ns-admin'])
    assert.deepEqual(rolesOf(payload, 'cognito:groups'), ['group-a'])
    assert.deepEqual(rolesOf(payload, 'roles'), ['reader'])
  })

  test('a string claim is split; anything else gives no roles', () => {
    assert.deepEqual(rolesOf(payload, 'scope'), ['openid', 'stories:write'])
    assert.deepEqual(rolesOf({ r: 'a, b' }, 'r'), ['a', 'b'])
    assert.deepEqual(rolesOf({ r: { admin: true } }, 'r'), [])
    assert.deepEqual(rolesOf({ r: ['admin', 1, null] }, 'r'), ['admin'])
    assert.deepEqual(rolesOf(payload, 'missing.path'), [])
  })

  test('a dot path never walks the prototype chain', () => {
    assert.equal(readClaim({ sub: 'x' }, '__proto__.polluted'), undefined)
    assert.equal(readClaim({ sub: 'x' }, 'constructor.name'), undefined)
  })

  test('admin comes only from the configured role', () => {
    const mapping = { rolesClaim: 'app_metadata.roles', adminRole: 'admin' }
    assert.equal(toIdentity(payload, mapping).isAdmin, true)
    assert.equal(toIdentity(payload, { ...mapping, adminRole: 'owner' }).isAdmin, false)
    assert.equal(toIdentity({ ...payload, email: 'a@b.example' }, mapping).email, 'a@b.example')
  })

  test('a missing, empty or oversize subject is refused', () => {
    const mapping = { rolesClaim: 'roles', adminRole: 'admin' }
    for (const sub of [undefined, '', 'x'.repeat(256), 42]) {
      assert.throws(
        () => toIdentity({ sub } as never, mapping),
        (e) => e instanceof AppError && e.code === 'invalid_token',
      )
    }
  })
})

describe('algorithm allow-list', () => {
  test('none and HMAC are dropped whatever the setting says; unknown names are errors', () => {
    assert.deepEqual(parseAlgorithms('RS256, HS256, none, ES256'), {
      allowed: ['RS256', 'ES256'],
      dropped: ['HS256', 'none'],
    })
    assert.throws(() => parseAlgorithms('RS256,XX999'), /unsupported/)
    assert.throws(() => parseAlgorithms('HS512,none'), /no asymmetric/)
  })

  test('a key verifies only the algorithms its type and own alg allow', () => {
    const allowed = ['RS256', 'PS256', 'ES256', 'EdDSA']
    assert.deepEqual(algorithmsForJwk({ kty: 'RSA' }, allowed), ['RS256', 'PS256'])
    assert.deepEqual(algorithmsForJwk({ kty: 'RSA', alg: 'RS256' }, allowed), ['RS256'])
    assert.deepEqual(algorithmsForJwk({ kty: 'RSA', alg: 'HS256' }, allowed), [])
    assert.deepEqual(algorithmsForJwk({ kty: 'EC', crv: 'P-256' }, allowed), ['ES256'])
    assert.deepEqual(algorithmsForJwk({ kty: 'EC', crv: 'P-384' }, allowed), [])
    assert.deepEqual(algorithmsForJwk({ kty: 'OKP', crv: 'Ed25519' }, allowed), ['EdDSA'])
    assert.deepEqual(algorithmsForJwk({ kty: 'oct' }, allowed), [])
  })
})
