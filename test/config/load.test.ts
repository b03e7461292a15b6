import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { ConfigError } from '../../src/config/issues.ts'
import { loadConfig } from '../../src/config/load.ts'
import { loadConfigWithSecrets } from '../../src/config/load-with-secrets.ts'
import { listSetting, trustedProxies } from '../../src/config/network.ts'
import { NO_DOTENV, scratchDir } from './support/env.ts'

function dotEnv(content: string): string {
  const path = join(scratchDir(), '.env')
  writeFileSync(path, content)
  return path
}

function secretFile(content: string): string {
  const path = join(scratchDir(), 'value')
  writeFileSync(path, content)
  return path
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  assert.fail('expected a ConfigError')
}

describe('sources, later wins', () => {
  test('defaults apply when nothing is set, and say so', () => {
    const { config, sources } = loadConfig({}, NO_DOTENV)
    assert.equal(config.PORT, 8080)
    assert.equal(config.NODE_ENV, 'development')
    assert.equal(sources.PORT, 'default')
    assert.equal(sources.DATABASE_URL, undefined)
  })

  test('.env is read in development and beaten by the environment', () => {
    const path = dotEnv('PORT=9001\nHOST=0.0.0.0\n')
    const { config, sources } = loadConfig({ HOST: '127.0.0.2' }, path)
    assert.equal(config.PORT, 9001)
    assert.equal(sources.PORT, '.env')
    assert.equal(config.HOST, '127.0.0.2')
    assert.equal(sources.HOST, 'env')
  })

  test('.env is ignored in production', () => {
    const path = dotEnv('PORT=9001\n')
    const env = { NODE_ENV: 'production', ALLOW_EMBEDDED_DB: 'true' }
    const err = configError(() => loadConfig(env, path))
    // Refused for other reasons, but PORT never came from .env.
    assert.ok(!err.message.includes('PORT'))
    const loaded = loadConfig({ PORT: '1' }, path)
    assert.equal(loaded.sources.PORT, 'env')
  })

  test('NAME_FILE beats the environment and is trimmed', () => {
    const path = secretFile('  from-file.example.com\n')
    const { config, sources } = loadConfig({ HOST: 'from-env', HOST_FILE: path }, NO_DOTENV)
    assert.equal(config.HOST, 'from-file.example.com')
    assert.equal(sources.HOST, 'file')
  })

  test('an empty value counts as unset and hides nothing', () => {
    const path = dotEnv('PORT=9002\n')
    const { config, sources } = loadConfig({ PORT: '', HOST_FILE: secretFile('\n') }, path)
    assert.equal(config.PORT, 9002)
    assert.equal(sources.PORT, '.env')
    assert.equal(config.HOST, '127.0.0.1')
    assert.equal(sources.HOST, 'default')
  })

  test('values are coerced to their schema types', () => {
    const { config } = loadConfig({ PORT: '3000', SEED_DEMO: 'false', ALLOW_EMBEDDED_DB: 'true' }, NO_DOTENV)
    assert.equal(config.PORT, 3000)
    assert.equal(config.SEED_DEMO, false)
    assert.equal(config.ALLOW_EMBEDDED_DB, true)
  })

  test('the loaded configuration is frozen', () => {
    const { config } = loadConfig({}, NO_DOTENV)
    assert.ok(Object.isFrozen(config))
  })
})

describe('invalid values', () => {
  test('one error names every bad setting and why', () => {
    const err = configError(() =>
      loadConfig(
        {
          PORT: '70000',
          LOG_LEVEL: 'loud',
          DB_POOL_MAX: 'many',
          TRUST_PROXY: '10.0.0.0/99',
          CORS_ORIGINS: 'https://app.example.com/path',
          SECRETS_PROVIDER: 'gcp',
        },
        NO_DOTENV,
      ),
    )
    const named = err.issues.map((i) => `${i.setting}: ${i.code}`)
    for (const setting of [
      'PORT',
      'LOG_LEVEL',
      'DB_POOL_MAX',
      'TRUST_PROXY',
      'CORS_ORIGINS',
      'SECRETS_PROVIDER',
    ])
      assert.ok(named.includes(`${setting}: invalid`), `${setting} in ${named.join(', ')}`)
    assert.match(err.message, /PORT: invalid — must be <= 65535 \(got "70000"\)/)
    assert.match(
      err.message,
      /LOG_LEVEL: invalid — must be one of: fatal, error, warn, info, debug, trace, silent/,
    )
    assert.match(err.message, /TRUST_PROXY: invalid — "10\.0\.0\.0\/99" is not an IP address or CIDR range/)
  })

  test('authentication settings are checked with the rest: algorithms, and the provider when AUTH_DEV is off', () => {
    for (const algorithms of ['RS256,XX256', 'HS256,none']) {
      const err = configError(() => loadConfig({ AUTH_ALGORITHMS: algorithms }, NO_DOTENV))
      assert.deepEqual(
        err.issues.map((i) => `${i.setting}: ${i.code}`),
        ['AUTH_ALGORITHMS: invalid'],
      )
      assert.match(
        err.message,
        /AUTH_ALGORITHMS: invalid — (unsupported algorithm\(s\) XX256|no asymmetric algorithm)/,
      )
    }
    const err = configError(() => loadConfig({ AUTH_DEV: 'false' }, NO_DOTENV))
    assert.deepEqual(
      err.issues.map((i) => `${i.setting}: ${i.code}`),
      ['AUTH_ISSUER: missing', 'AUTH_AUDIENCE: missing'],
    )
    const { config } = loadConfig(
      {
        AUTH_DEV: 'false',
        AUTH_ISSUER: 'https://idp.example.com/',
        AUTH_AUDIENCE: 'inkwell',
        AUTH_ALGORITHMS: 'RS256,HS256',
      },
      NO_DOTENV,
    )
    assert.equal(config.AUTH_ISSUER, 'https://idp.example.com/')
  })

  test('an invalid secret is named without its value', () => {
    const leaked = ['redis-password-8d1f', 'sentry-key-5b2c', 'db-password-77ae']
    const err = configError(() =>
      loadConfig(
        {
          REDIS_URL: `http://:${leaked[0]}@cache:6379`,
          SENTRY_DSN: `ftp://${leaked[1]}@sentry.example.com/1`,
          DATABASE_URL: `mysql://u:${leaked[2]}@db/x`,
        },
        NO_DOTENV,
      ),
    )
    for (const setting of ['REDIS_URL', 'SENTRY_DSN', 'DATABASE_URL'])
      assert.match(err.message, new RegExp(`${setting}: invalid`))
    for (const value of leaked) assert.ok(!err.message.includes(value), `leaked ${value}`)
  })

  test('an unreadable NAME_FILE is named', () => {
    const err = configError(() => loadConfig({ SECRET_KEY_FILE: '/nonexistent/secret-key' }, NO_DOTENV))
    assert.match(
      err.message,
      /SECRET_KEY_FILE: unreadable — cannot read \/nonexistent\/secret-key \(ENOENT\)/,
    )
  })

  test("a provider's missing settings are named before it is contacted", async () => {
    await assert.rejects(loadConfigWithSecrets({ SECRETS_PROVIDER: 'vault' }, NO_DOTENV), (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      const named = err.issues.map((i) => `${i.setting}: ${i.code}`)
      assert.deepEqual(named, ['SECRETS_VAULT_ADDR: missing', 'SECRETS_VAULT_TOKEN: missing'])
      return true
    })
    await assert.rejects(
      loadConfigWithSecrets(
        { SECRETS_PROVIDER: 'vault', SECRETS_VAULT_ADDR: 'https://v', SECRETS_VAULT_ROLE_ID: 'r' },
        NO_DOTENV,
      ),
      /SECRETS_VAULT_SECRET_ID: missing/,
    )
    await assert.rejects(
      loadConfigWithSecrets({ SECRETS_PROVIDER: 'aws' }, NO_DOTENV),
      /SECRETS_AWS_SECRET_ID: missing/,
    )
  })
})

test('in production a plain-http provider is refused before any credential is sent', async () => {
  const env = {
    NODE_ENV: 'production',
    SECRETS_PROVIDER: 'vault',
    SECRETS_VAULT_ADDR: 'http://vault.internal:8200',
    SECRETS_VAULT_TOKEN: 'hvs.token',
    SECRETS_STARTUP_ATTEMPTS: '1',
  }
  await assert.rejects(loadConfigWithSecrets(env, NO_DOTENV), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err))
    const named = err.issues.map((i) => `${i.setting}: ${i.code}`)
    assert.ok(named.includes('SECRETS_VAULT_ADDR: tls_required'), named.join(', '))
    // The provider might have held these; they are not reported as missing.
    assert.ok(!named.includes('SECRET_KEY: missing'))
    assert.ok(!named.includes('DATABASE_URL: missing'))
    assert.ok(named.includes('AUTH_ISSUER: missing'))
    return true
  })
})

describe('list settings', () => {
  test('none is the explicit empty list', () => {
    assert.deepEqual(listSetting('none'), [])
    assert.deepEqual(listSetting(' https://a.example.com , https://b.example.com '), [
      'https://a.example.com',
      'https://b.example.com',
    ])
  })

  test('TRUST_PROXY becomes Fastify trustProxy', () => {
    assert.equal(trustedProxies({ TRUST_PROXY: '' }), false)
    assert.equal(trustedProxies({ TRUST_PROXY: 'none' }), false)
    assert.deepEqual(trustedProxies({ TRUST_PROXY: '10.0.0.0/8, ::1, loopback' }), [
      '10.0.0.0/8',
      '::1',
      'loopback',
    ])
  })
})
