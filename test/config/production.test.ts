import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError, type ConfigIssue } from '../../src/config/issues.ts'
import { loadConfig } from '../../src/config/load.ts'
import { PRODUCTION_RULES } from '../../src/config/production.ts'
import { SECRET_KEY_PLACEHOLDER } from '../../src/config/secret-key.ts'
import { NO_DOTENV, productionEnv } from './support/env.ts'

/** Loads and returns the refusal's issues as `SETTING: code` names (fails if it loads). */
function refusal(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env, NO_DOTENV)
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err))
    return err.issues.map((i: ConfigIssue) => `${i.setting}: ${i.code}`)
  }
  assert.fail('the configuration was accepted')
}

/** One unsafe change per row, and the named error it must produce. */
const REFUSALS: Array<[string, Record<string, string | undefined>, string]> = [
  ['missing SECRET_KEY', { SECRET_KEY: undefined }, 'SECRET_KEY: missing'],
  ['short SECRET_KEY', { SECRET_KEY: 'q7Xk2pR9vL4mZ8' }, 'SECRET_KEY: too_short'],
  [
    'placeholder SECRET_KEY (docs example)',
    { SECRET_KEY: SECRET_KEY_PLACEHOLDER },
    'SECRET_KEY: placeholder',
  ],
  [
    'placeholder SECRET_KEY (django)',
    { SECRET_KEY: `django-insecure-${'k3#x9!vq2@m7p'.repeat(3)}` },
    'SECRET_KEY: placeholder',
  ],
  ['low-entropy SECRET_KEY (repeats)', { SECRET_KEY: 'Ab1!'.repeat(12) }, 'SECRET_KEY: low_entropy'],
  [
    'low-entropy SECRET_KEY (short alphabet)',
    { SECRET_KEY: 'abcabbcacbabcacbbacbacbcabcabcabbcabcaacbb' },
    'SECRET_KEY: low_entropy',
  ],
  ['AUTH_DEV on', { AUTH_DEV: 'true' }, 'AUTH_DEV: refused'],
  ['AUTH_ISSUER unset', { AUTH_ISSUER: undefined }, 'AUTH_ISSUER: missing'],
  ['AUTH_AUDIENCE unset', { AUTH_AUDIENCE: undefined }, 'AUTH_AUDIENCE: missing'],
  ['embedded database', { DATABASE_URL: undefined }, 'DATABASE_URL: missing'],
  [
    'plain-text database',
    { DATABASE_URL: 'postgres://u:p@db.internal/inkwell' },
    'DATABASE_URL: tls_required',
  ],
  [
    'downgradable sslmode',
    { DATABASE_URL: 'postgres://u:p@db/inkwell?sslmode=prefer' },
    'DATABASE_URL: tls_required',
  ],
  [
    'plain-text direct URL',
    { DATABASE_DIRECT_URL: 'postgres://u:p@db.internal/inkwell' },
    'DATABASE_DIRECT_URL: tls_required',
  ],
  ['CORS wildcard', { CORS_ORIGINS: '*' }, 'CORS_ORIGINS: wildcard'],
  ['CORS wildcard in a list', { CORS_ORIGINS: 'https://a.example.com,*' }, 'CORS_ORIGINS: wildcard'],
  ['CORS unset', { CORS_ORIGINS: undefined }, 'CORS_ORIGINS: not_explicit'],
  ['CORS empty (counts as unset)', { CORS_ORIGINS: '  ' }, 'CORS_ORIGINS: not_explicit'],
  ['TRUST_PROXY unset', { TRUST_PROXY: undefined }, 'TRUST_PROXY: not_explicit'],
  ['LOG_LEVEL debug', { LOG_LEVEL: 'debug' }, 'LOG_LEVEL: verbose'],
  ['LOG_LEVEL trace', { LOG_LEVEL: 'trace' }, 'LOG_LEVEL: verbose'],
  [
    'Vault over plain http to another host',
    { SECRETS_VAULT_ADDR: 'http://vault.internal:8200' },
    'SECRETS_VAULT_ADDR: tls_required',
  ],
  [
    'AWS endpoint over plain http to another host',
    { SECRETS_AWS_ENDPOINT: 'http://sm.internal' },
    'SECRETS_AWS_ENDPOINT: tls_required',
  ],
]

/** The provider settings the two transport rows need to be judged at all. */
function withProvider(change: Record<string, string | undefined>): Record<string, string | undefined> {
  if (change.SECRETS_VAULT_ADDR) return { SECRETS_PROVIDER: 'vault', SECRETS_VAULT_TOKEN: 't', ...change }
  if (change.SECRETS_AWS_ENDPOINT) return { SECRETS_PROVIDER: 'aws', SECRETS_AWS_SECRET_ID: 'x', ...change }
  return change
}

describe('production refuses unsafe settings, each under its name', () => {
  test('the baseline production configuration is accepted', () => {
    const { config, warnings } = loadConfig(productionEnv(), NO_DOTENV)
    assert.equal(config.NODE_ENV, 'production')
    assert.equal(config.AUTH_DEV, false)
    assert.deepEqual(warnings, [])
  })

  for (const [name, change, expected] of REFUSALS)
    test(name, () => {
      const issues = refusal({ ...productionEnv(), ...withProvider(change) })
      assert.ok(issues.includes(expected), `expected ${expected}, got ${issues.join(', ')}`)
    })

  test('every documented rule is exercised above', () => {
    const exercised = new Set(REFUSALS.map(([, , expected]) => expected))
    const documented = PRODUCTION_RULES.map((r) => `${r.setting}: ${r.code}`)
    assert.deepEqual([...exercised].sort(), [...new Set(documented)].sort())
  })

  test('every problem is reported at once, in one error', () => {
    const issues = refusal({
      NODE_ENV: 'production',
      SECRET_KEY: 'changeme',
      AUTH_DEV: 'true',
      CORS_ORIGINS: '*',
      LOG_LEVEL: 'debug',
    })
    for (const expected of [
      'SECRET_KEY: too_short',
      'SECRET_KEY: placeholder',
      'SECRET_KEY: low_entropy',
      'AUTH_DEV: refused',
      'AUTH_ISSUER: missing',
      'AUTH_AUDIENCE: missing',
      'DATABASE_URL: missing',
      'CORS_ORIGINS: wildcard',
      'TRUST_PROXY: not_explicit',
      'LOG_LEVEL: verbose',
    ])
      assert.ok(issues.includes(expected), `missing ${expected} in ${issues.join(', ')}`)
  })

  test('the refusal message names the problem and never the secret', () => {
    const key = 'changeme-4f9a1c'
    try {
      loadConfig({ ...productionEnv(), SECRET_KEY: key }, NO_DOTENV)
      assert.fail('accepted')
    } catch (err) {
      const message = (err as Error).message
      assert.match(message, /SECRET_KEY: placeholder — /)
      assert.match(message, /SECRET_KEY: too_short — /)
      assert.ok(!message.includes(key))
    }
  })
})

describe('production accepts the safe alternatives', () => {
  const accepted: Array<[string, Record<string, string | undefined>]> = [
    ['embedded database when explicitly allowed', { DATABASE_URL: undefined, ALLOW_EMBEDDED_DB: 'true' }],
    ['DATABASE_SSL=disable waives TLS', { DATABASE_URL: 'postgres://u:p@db/x', DATABASE_SSL: 'disable' }],
    ['DATABASE_SSL=require adds TLS', { DATABASE_URL: 'postgres://u:p@db/x', DATABASE_SSL: 'require' }],
    ['sslmode=require in the URL', { DATABASE_URL: 'postgres://u:p@db/x?sslmode=require' }],
    ['ssl=true in the URL', { DATABASE_URL: 'postgres://u:p@db/x?ssl=true' }],
    ['CORS_ORIGINS=none and TRUST_PROXY=none', { CORS_ORIGINS: 'none', TRUST_PROXY: 'none' }],
    ['Vault over http on localhost (agent sidecar)', { SECRETS_VAULT_ADDR: 'http://127.0.0.1:8200' }],
    [
      'a long random hex key',
      { SECRET_KEY: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' },
    ],
  ]
  for (const [name, change] of accepted)
    test(name, () => {
      assert.doesNotThrow(() => loadConfig({ ...productionEnv(), ...withProvider(change) }, NO_DOTENV))
    })
})

describe('development accepts a weak SECRET_KEY with a warning', () => {
  const weak: Array<[string, string, string]> = [
    ['short', 'q7Xk2pR9vL4mZ8', 'too_short'],
    ['placeholder', SECRET_KEY_PLACEHOLDER, 'placeholder'],
    ['low entropy', 'Ab1!'.repeat(12), 'low_entropy'],
  ]
  for (const [name, key, code] of weak)
    test(name, () => {
      const { config, warnings } = loadConfig({ NODE_ENV: 'development', SECRET_KEY: key }, NO_DOTENV)
      assert.equal(config.SECRET_KEY, key)
      assert.ok(
        warnings.some((w) => w.setting === 'SECRET_KEY' && w.code === code),
        JSON.stringify(warnings),
      )
    })

  test('other production rules do not apply in development', () => {
    const { config, warnings } = loadConfig(
      { NODE_ENV: 'development', LOG_LEVEL: 'debug', CORS_ORIGINS: '*' },
      NO_DOTENV,
    )
    assert.equal(config.AUTH_DEV, true)
    assert.deepEqual(warnings, [])
  })
})
