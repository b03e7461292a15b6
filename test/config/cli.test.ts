import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { checkSecretKey } from '../../src/config/secret-key.ts'
import { runInkwell } from './support/cli.ts'
import { productionEnv, scratchDir } from './support/env.ts'
import { startVaultStandIn } from './support/vault-stand-in.ts'

/** Values that must never appear in any output. */
const SECRETS = {
  key: 'changeme-but-long-enough-to-pass-the-length-check-7c1e',
  dbPassword: 'db-password-4a7f9c',
  vaultToken: 'hvs.vault-token-93be',
  redisPassword: 'redis-password-0d2e',
}

function assertNoSecret(output: string) {
  for (const value of Object.values(SECRETS)) assert.ok(!output.includes(value), `leaked ${value}`)
}

describe('inkwell config check', () => {
  test('prints every setting with its source, secrets redacted', async () => {
    const cwd = scratchDir()
    writeFileSync(join(cwd, '.env'), 'HOST=0.0.0.0\n')
    const keyFile = join(cwd, 'key')
    writeFileSync(keyFile, SECRETS.key)
    const result = await runInkwell(
      ['config', 'check'],
      {
        PORT: '9090',
        SECRET_KEY_FILE: keyFile,
        REDIS_URL: `redis://:${SECRETS.redisPassword}@cache:6379`,
        DATA_DIR: cwd,
      },
      cwd,
    )
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /^ {2}PORT +9090 +env$/m)
    assert.match(result.stdout, /^ {2}HOST +0\.0\.0\.0 +\.env$/m)
    assert.match(result.stdout, /^ {2}SECRET_KEY +\[redacted\] +file$/m)
    assert.match(result.stdout, /^ {2}REDIS_URL +\[redacted\] +env$/m)
    assert.match(result.stdout, /^ {2}BODY_LIMIT_BYTES +1048576 +default$/m)
    assert.match(result.stdout, /^ {2}DATABASE_URL +unset$/m)
    // Development accepts the placeholder key, with a warning.
    assert.match(result.stdout, /Warnings:\n {2}- SECRET_KEY: placeholder — /)
    assertNoSecret(result.stdout + result.stderr)
  })

  test('--production exits 78 and names every unsafe setting', async () => {
    const cwd = scratchDir()
    const result = await runInkwell(
      ['config', 'check', '--production'],
      {
        SECRET_KEY: SECRETS.key,
        DATABASE_URL: `postgres://inkwell:${SECRETS.dbPassword}@db.internal/inkwell`,
        CORS_ORIGINS: '*',
        LOG_LEVEL: 'trace',
      },
      cwd,
    )
    assert.equal(result.status, 78)
    for (const name of [
      'SECRET_KEY: placeholder',
      'AUTH_ISSUER: missing',
      'AUTH_AUDIENCE: missing',
      'DATABASE_URL: tls_required',
      'CORS_ORIGINS: wildcard',
      'TRUST_PROXY: not_explicit',
      'LOG_LEVEL: verbose',
    ])
      assert.ok(result.stdout.includes(`  - ${name} — `), `${name} missing from:\n${result.stdout}`)
    assertNoSecret(result.stdout + result.stderr)
  })

  test('--json reports the same, machine-readably', async () => {
    const result = await runInkwell(['config', 'check', '--json'], { PORT: '70000' }, scratchDir())
    assert.equal(result.status, 78)
    const report = JSON.parse(result.stdout) as {
      ok: boolean
      issues: Array<{ setting: string; code: string }>
    }
    assert.equal(report.ok, false)
    assert.deepEqual(
      report.issues.map((i) => `${i.setting}: ${i.code}`),
      ['PORT: invalid'],
    )
  })

  test('shows secrets resolved through Vault as such, redacted', async () => {
    const vault = await startVaultStandIn()
    after(() => vault.close())
    const { SECRET_KEY, DATABASE_URL, ...rest } = productionEnv()
    vault.put({ SECRET_KEY, DATABASE_URL })
    const result = await runInkwell(
      ['config', 'check'],
      {
        ...rest,
        SECRETS_PROVIDER: 'vault',
        SECRETS_VAULT_ADDR: vault.url,
        SECRETS_VAULT_TOKEN: vault.rootToken,
      },
      scratchDir(),
    )
    assert.equal(result.status, 0, result.stdout + result.stderr)
    assert.match(result.stdout, /^ {2}SECRET_KEY +\[redacted\] +secrets:vault$/m)
    assert.match(result.stdout, /^ {2}DATABASE_URL +\[redacted\] +secrets:vault$/m)
    assert.match(result.stdout, /^ {2}SECRETS_VAULT_TOKEN +\[redacted\] +env$/m)
    assert.match(result.stdout, /Production checks: passed/)
    for (const value of [SECRET_KEY, vault.rootToken, 'db-password-1'])
      assert.ok(!(result.stdout + result.stderr).includes(value!))
  })
})

describe('starting with a bad configuration', () => {
  test('exits 78 with one message naming every bad setting, and prints no secret', async () => {
    const result = await runInkwell(
      ['serve'],
      {
        NODE_ENV: 'production',
        SECRET_KEY: SECRETS.key,
        DATABASE_URL: `mysql://inkwell:${SECRETS.dbPassword}@db/inkwell`,
        REDIS_URL: `http://:${SECRETS.redisPassword}@cache`,
        SECRETS_VAULT_TOKEN: SECRETS.vaultToken,
        PORT: 'eighty',
        AUTH_DEV: 'true',
        TRUST_PROXY: 'everyone',
      },
      scratchDir(),
    )
    assert.equal(result.status, 78)
    assert.match(result.stderr, /^Invalid configuration:$/m)
    for (const name of [
      'PORT: invalid',
      'DATABASE_URL: invalid',
      'REDIS_URL: invalid',
      'TRUST_PROXY: invalid',
      'SECRET_KEY: placeholder',
      'AUTH_DEV: refused',
      'AUTH_ISSUER: missing',
      'CORS_ORIGINS: not_explicit',
    ])
      assert.ok(result.stderr.includes(`  - ${name} — `), `${name} missing from:\n${result.stderr}`)
    assertNoSecret(result.stdout + result.stderr)
  })

  test('exits 69 when the secrets provider stays unreachable, after bounded retries', async () => {
    const vault = await startVaultStandIn()
    after(() => vault.close())
    vault.control.sealed = true
    const result = await runInkwell(
      ['serve'],
      {
        ...productionEnv(),
        SECRETS_PROVIDER: 'vault',
        SECRETS_VAULT_ADDR: vault.url,
        SECRETS_VAULT_TOKEN: SECRETS.vaultToken,
        SECRETS_STARTUP_ATTEMPTS: '2',
      },
      scratchDir(),
    )
    assert.equal(result.status, 69)
    assert.match(result.stderr, /secrets provider unavailable at startup; retrying/)
    assert.match(
      result.stderr,
      /Cannot start: secrets provider "vault" unavailable after 2 attempt\(s\): .*503: Vault is sealed/,
    )
    assert.equal(vault.log.reads, 2)
    assertNoSecret(result.stdout + result.stderr)
  })
})

describe('inkwell secret generate', () => {
  test('prints a strong key', async () => {
    const result = await runInkwell(['secret', 'generate'], {}, scratchDir())
    assert.equal(result.status, 0)
    const key = result.stdout.trim()
    assert.equal(Buffer.from(key, 'base64url').length, 32)
    assert.deepEqual(checkSecretKey(key), [])
  })

  test('--bytes asks for a longer key, never a shorter one', async () => {
    const longer = await runInkwell(['secret', 'generate', '--bytes', '64'], {}, scratchDir())
    assert.equal(Buffer.from(longer.stdout.trim(), 'base64url').length, 64)
    const shorter = await runInkwell(['secret', 'generate', '--bytes', '16'], {}, scratchDir())
    assert.equal(shorter.status, 2)
    assert.match(shorter.stderr, /--bytes must be a whole number from 32/)
  })
})
