import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import {
  checkSecretKey,
  generateSecretKey,
  isPlaceholder,
  lowEntropyReason,
  SECRET_KEY_PLACEHOLDER,
  shannonBitsPerChar,
} from '../../src/config/secret-key.ts'

const codes = (key: string | undefined) => checkSecretKey(key).map((i) => i.code)

test('Shannon entropy per character', () => {
  assert.equal(shannonBitsPerChar('aaaa'), 0)
  assert.equal(shannonBitsPerChar('abcd'), 2)
  assert.equal(shannonBitsPerChar('aabb'), 1)
})

test('generated keys are 32 random bytes, base64url, and pass every check', () => {
  const keys = new Set<string>()
  for (let i = 0; i < 300; i++) {
    const key = generateSecretKey()
    assert.match(key, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(Buffer.from(key, 'base64url').length, 32)
    assert.deepEqual(checkSecretKey(key), [], key)
    keys.add(key)
  }
  assert.equal(keys.size, 300)
  assert.equal(Buffer.from(generateSecretKey(64), 'base64url').length, 64)
  assert.throws(() => generateSecretKey(16), RangeError)
})

test('random hex and base64 keys of 32 bytes pass', () => {
  for (let i = 0; i < 200; i++) {
    assert.deepEqual(codes(randomBytes(32).toString('hex')), [])
    assert.deepEqual(codes(randomBytes(32).toString('base64')), [])
  }
})

test('known placeholders are refused, whatever their length', () => {
  for (const key of [
    'changeme',
    'CHANGEME',
    'secret',
    'keyboard cat',
    SECRET_KEY_PLACEHOLDER,
    'django-insecure-9x#k2!m@4vq7^z1p$w8&r3e6t0y5u*i',
    'please-change-me-before-going-to-production-9f2k',
    'your-secret-key-goes-here-and-it-is-long-enough',
  ])
    assert.ok(isPlaceholder(key), key)
  assert.ok(!isPlaceholder(generateSecretKey()))
  assert.ok(codes(SECRET_KEY_PLACEHOLDER).includes('placeholder'))
})

test('low-entropy keys are refused with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['a'.repeat(48), /repeats a 1-character pattern/],
    ['ab'.repeat(24), /repeats a 2-character pattern/],
    ['Tr0ub4dor&3'.repeat(4), /repeats a 11-character pattern/],
    ['abcabbcacbabcacbbacbacbcabcabcabbcabcaacbbac', /only 3 distinct characters/],
    ['abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL', /consecutive/],
    ['1122334455667788990011223344556677889900x', /consecutive/],
    // 44 bytes, but only 11 characters: about 38 bits.
    ['🔑🔒🗝🔐🛡🧷🪪🔏🗄🧰🪤', /about 38 bits of entropy/],
  ]
  for (const [key, reason] of cases) {
    assert.match(lowEntropyReason(key) ?? 'accepted', reason, key)
    assert.ok(codes(key).includes('low_entropy'), key)
  }
})

test('a missing key is its own error; a short key says how short', () => {
  assert.deepEqual(codes(undefined), ['missing'])
  const [issue] = checkSecretKey('Zq8#Lm2!Vx9@')
  assert.equal(issue?.code, 'too_short')
  assert.match(issue?.detail ?? '', /12 bytes, at least 32/)
})

test('issue details never quote the key', () => {
  for (const key of ['changeme', 'a'.repeat(40), SECRET_KEY_PLACEHOLDER, 'Zq8#Lm2!Vx9@'])
    for (const issue of checkSecretKey(key)) assert.ok(!issue.detail.includes(key), issue.detail)
})

test('keys built from common words or keyboard runs are refused, however long', () => {
  for (const key of [
    'development-secret-key-do-not-use-in-production',
    'default-secret-key-please-change-it-now',
    'supersecretkeysupersecretkey1234567',
    'thisismysecretkeyanditislongenough',
    'ThisIsNotAVerySecureSecretKey12345',
    'INKWELL_SECRET_KEY_FOR_LOCAL_DEVELOPMENT',
    'my-super-secret-jwt-signing-key-for-the-api-server',
    'qwertyuiopasdfghjklzxcvbnmqwertyuiop',
    'asdfghjklqwertyuiopzxcvbnmasdfghjkl',
  ]) {
    assert.match(lowEntropyReason(key) ?? 'accepted', /common words or keyboard runs/, key)
    assert.ok(codes(key).includes('low_entropy'), key)
  }
  // Random keys that happen to contain a listed word or a short run still pass.
  assert.deepEqual(codes(`${generateSecretKey()}secret`), [])
  assert.deepEqual(codes(`9876${randomBytes(32).toString('hex')}`), [])
})
