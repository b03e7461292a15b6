import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { importKeySet } from '../../src/platform/auth/jwk-import.ts'
import { afterBearerScheme } from '../../src/platform/auth/plugin.ts'
import { checkShape, readHeader } from '../../src/platform/auth/token-header.ts'
import { createVerifiedCache, tokenHash } from '../../src/platform/auth/verified-cache.ts'
import { AppError } from '../../src/platform/http/errors.ts'
import { b64url, makeKey } from './support/tokens.ts'

const allowed = ['RS256', 'ES256', 'EdDSA']

test('only public signing keys that fit an allowed algorithm are imported', async () => {
  const good = await makeKey('RS256', 'good')
  const ec = await makeKey('ES256', 'ec')
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })
  const { keys, skipped } = await importKeySet(
    {
      keys: [
        good.jwk,
        { ...ec.jwk, kid: 'no-alg', alg: undefined },
        { ...(await exportJWK(privateKey)), kid: 'private' },
        { ...good.jwk, kid: 'encryption', use: 'enc' },
        { ...good.jwk, kid: 'no-verify', key_ops: ['encrypt'] },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' },
        { ...weak, kid: 'weak' },
        { ...good.jwk, kid: 'hs-labelled', alg: 'HS256' },
        'not a key',
      ],
    },
    allowed,
  )
  assert.deepEqual(
    keys.map((k) => k.kid),
    ['good', 'no-alg'],
  )
  assert.equal(skipped.length, 7)
})

test('a document that is not a JWKS is refused', async () => {
  await assert.rejects(importKeySet({ nope: [] }, allowed), /not a JWKS/)
  await assert.rejects(importKeySet([], allowed), /not a JWKS/)
})

const refusedWith = (fn: () => unknown) =>
  assert.throws(fn, (e) => e instanceof AppError && e.code === 'invalid_token')

test('token shape: size cap, three base64url segments, no empty signature', () => {
  const header = b64url({ alg: 'RS256', kid: 'k' })
  const body = b64url({ sub: 'x' })
  checkShape(`${header}.${body}.c2ln`)
  refusedWith(() => checkShape(`${header}.${body}.${'A'.repeat(8192)}`))
  refusedWith(() => checkShape(`${header}.${body}.`))
  refusedWith(() => checkShape(`${header}.${body}`))
  refusedWith(() => checkShape(`${header}.${body}.c2ln.c2ln.c2ln`))
  refusedWith(() => checkShape(`${header}.${body}.c2l=`))
  refusedWith(() => checkShape(`A.${body}.c2ln`))
  refusedWith(() => checkShape(`${header}.AAAAA.c2ln`))
  refusedWith(() => checkShape(`${header}.${body}.séga`))
})

test('the Bearer scheme: any letter case, one or more spaces, everything after it is the token', () => {
  // The pattern the hand-written reader replaced, kept here as its specification.
  const pattern = (h: string) => /^Bearer +(.+)$/i.exec(h.trim())?.[1] ?? null
  const headers = [
    'Bearer a.b.c',
    'bearer a.b.c',
    'BEARER   a.b.c',
    '  Bearer a.b.c  ',
    'Bearer a b',
    'Bearer',
    'Bearer ',
    'Bearer    ',
    'Bearera.b.c',
    'Bearer\ta.b.c',
    'Basic dXNlcjpwYXNz',
    'Bear a.b.c',
    'Token a.b.c',
    '',
    ' ',
    'Bearer x',
  ]
  for (const header of headers)
    assert.equal(afterBearerScheme(header), pattern(header), JSON.stringify(header))
  assert.equal(afterBearerScheme('bEaReR  tok'), 'tok')
  assert.equal(afterBearerScheme('Basic abc'), null)
})

test('token header: allowed alg only, crit refused, key-carrying headers ignored', () => {
  const allowedSet = new Set(allowed)
  const token = (header: object) => `${b64url(header)}.${b64url({})}.c2ln`
  assert.deepEqual(readHeader(token({ alg: 'RS256', kid: 'k', jku: 'http://evil', jwk: {} }), allowedSet), {
    alg: 'RS256',
    kid: 'k',
  })
  for (const alg of ['none', 'HS256', 'PS256', 'RS256 ', 7])
    refusedWith(() => readHeader(token({ alg }), allowedSet))
  refusedWith(() => readHeader(token({ alg: 'RS256', crit: ['exp'] }), allowedSet))
  refusedWith(() => readHeader(token({ alg: 'RS256', kid: 'k'.repeat(300) }), allowedSet))
  refusedWith(() => readHeader(token({ alg: 'RS256', kid: 12 }), allowedSet))
  refusedWith(() => readHeader(`${b64url('[1]')}.e30.c2ln`, allowedSet))
  refusedWith(() => readHeader(`${b64url('{"alg":')}.e30.c2ln`, allowedSet))
})

test('verified-token cache: entries end at exp and leave with their key', () => {
  let now = 1_000
  const cache = createVerifiedCache(2, () => now)
  const identity = { subject: 's', roles: [], isAdmin: false }
  cache.set('a', { identity, expiresAt: 2_000, keyId: 'k1' })
  cache.set('b', { identity, expiresAt: 5_000, keyId: 'k2' })
  cache.set('expired', { identity, expiresAt: 500, keyId: 'k1' })
  assert.equal(cache.size, 2)
  now = 2_000
  assert.equal(cache.get('a'), undefined)
  assert.ok(cache.get('b'))
  cache.forgetKeys(new Set(['k2']))
  assert.equal(cache.get('b'), undefined)
  cache.set('c', { identity, expiresAt: 9_000, keyId: 'k3' })
  cache.set('d', { identity, expiresAt: 9_000, keyId: 'k3' })
  cache.set('e', { identity, expiresAt: 9_000, keyId: 'k3' })
  assert.equal(cache.size, 2)
  assert.equal(cache.get('c'), undefined)
  assert.equal(tokenHash('t').length, 43)
  assert.equal(createVerifiedCache(0).size, 0)
})
