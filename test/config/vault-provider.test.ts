import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { loadConfigWithSecrets } from '../../src/config/load-with-secrets.ts'
import { SecretsProviderError } from '../../src/config/secrets/index.ts'
import { createVaultProvider, type VaultProviderOptions } from '../../src/config/secrets/vault-provider.ts'
import { manualClock, NO_DOTENV, productionEnv, scratchDir } from './support/env.ts'
import { startVaultStandIn } from './support/vault-stand-in.ts'

const NAMES = ['SECRET_KEY', 'DATABASE_URL', 'REDIS_URL', 'SENTRY_DSN']

const vault = await startVaultStandIn({ roleId: 'role-1', secretId: 'secret-id-1', leaseSeconds: 600 })
after(() => vault.close())

function provider(options: Partial<VaultProviderOptions>) {
  return createVaultProvider({
    addr: vault.url,
    approleMount: 'approle',
    mount: 'secret',
    path: 'inkwell',
    timeoutMs: 2000,
    ...options,
  })
}

describe('Vault KV v2 provider', () => {
  test('token auth reads the KV v2 data of the path, keeping only the requested settings', async () => {
    vault.put({
      SECRET_KEY: 'k-1',
      DATABASE_URL: 'postgres://u:p@db/x',
      PORT: '1',
      EMPTY: '',
      SENTRY_DSN: 42,
    })
    const values = await provider({ token: vault.rootToken }).fetch(NAMES)
    assert.deepEqual(values, { SECRET_KEY: 'k-1', DATABASE_URL: 'postgres://u:p@db/x', SENTRY_DSN: '42' })
    assert.equal(vault.log.tokensSeen.at(-1), vault.rootToken)
  })

  test("a bad token is refused with Vault's reason", async () => {
    vault.put({ SECRET_KEY: 'k-1' })
    await assert.rejects(provider({ token: 'hvs.wrong' }).fetch(NAMES), (err: unknown) => {
      assert.ok(err instanceof SecretsProviderError)
      assert.match(err.message, /failed \(403: permission denied\)/)
      return true
    })
  })

  test('AppRole logs in once and reuses its token until 80% of the lease', async () => {
    vault.put({ SECRET_KEY: 'k-2' })
    const clock = manualClock()
    const p = provider({ roleId: 'role-1', secretId: 'secret-id-1', now: clock.read })
    const loginsBefore = vault.log.logins
    for (let i = 0; i < 5; i++) assert.deepEqual(await p.fetch(NAMES), { SECRET_KEY: 'k-2' })
    assert.equal(vault.log.logins - loginsBefore, 1)
    clock.advance(479_000)
    await p.fetch(NAMES)
    assert.equal(vault.log.logins - loginsBefore, 1)
    clock.advance(2_000)
    await p.fetch(NAMES)
    assert.equal(vault.log.logins - loginsBefore, 2)
  })

  test('AppRole logs in again when its token is revoked (403)', async () => {
    vault.put({ SECRET_KEY: 'k-3' })
    const p = provider({ roleId: 'role-1', secretId: 'secret-id-1' })
    await p.fetch(NAMES)
    const loginsBefore = vault.log.logins
    vault.revokeIssuedTokens()
    assert.deepEqual(await p.fetch(NAMES), { SECRET_KEY: 'k-3' })
    assert.equal(vault.log.logins - loginsBefore, 1)
  })

  test("a wrong secret_id fails the login with Vault's reason", async () => {
    await assert.rejects(
      provider({ roleId: 'role-1', secretId: 'stolen' }).fetch(NAMES),
      /AppRole login refused \(400: invalid role or secret ID\)/,
    )
  })

  test('a missing path, a sealed Vault and an unreachable Vault are errors', async () => {
    await assert.rejects(
      provider({ token: vault.rootToken, path: 'other' }).fetch(NAMES),
      /\(404: no detail\)/,
    )
    vault.control.sealed = true
    try {
      await assert.rejects(provider({ token: vault.rootToken }).fetch(NAMES), /503: Vault is sealed/)
    } finally {
      vault.control.sealed = false
    }
    await assert.rejects(
      provider({ token: vault.rootToken, addr: 'http://127.0.0.1:9' }).fetch(NAMES),
      /Vault http:\/\/127\.0\.0\.1:9: GET secret\/data\/inkwell failed/,
    )
  })

  test('a production configuration can come entirely from Vault through AppRole', async () => {
    const { SECRET_KEY, DATABASE_URL, ...rest } = productionEnv()
    vault.put({ SECRET_KEY, DATABASE_URL })
    const { config, sources, secrets } = await loadConfigWithSecrets(
      {
        ...rest,
        SECRETS_PROVIDER: 'vault',
        SECRETS_VAULT_ADDR: vault.url,
        SECRETS_VAULT_ROLE_ID: 'role-1',
        SECRETS_VAULT_SECRET_ID: 'secret-id-1',
      },
      NO_DOTENV,
    )
    secrets.close()
    assert.equal(config.SECRET_KEY, SECRET_KEY)
    assert.equal(config.DATABASE_URL, DATABASE_URL)
    assert.equal(sources.SECRET_KEY, 'secrets:vault')
    assert.equal(sources.DATABASE_URL, 'secrets:vault')
    assert.equal(sources.AUTH_ISSUER, 'env')
  })

  test('the provider beats env and NAME_FILE for secret settings, and only for those', async () => {
    vault.put({ SECRET_KEY: 'from-vault-'.padEnd(40, 'x'), PORT: '1234', SECRETS_VAULT_TOKEN: 'hijack' })
    const keyFile = join(scratchDir(), 'secret-key')
    writeFileSync(keyFile, 'from-file')
    const { config, sources, secrets } = await loadConfigWithSecrets(
      {
        SECRET_KEY: 'from-env',
        SECRET_KEY_FILE: keyFile,
        PORT: '8081',
        SECRETS_PROVIDER: 'vault',
        SECRETS_VAULT_ADDR: vault.url,
        SECRETS_VAULT_TOKEN: vault.rootToken,
      },
      NO_DOTENV,
    )
    secrets.close()
    assert.equal(sources.SECRET_KEY, 'secrets:vault')
    assert.equal(config.SECRET_KEY, 'from-vault-'.padEnd(40, 'x'))
    assert.equal(config.PORT, 8081)
    assert.equal(config.SECRETS_VAULT_TOKEN, vault.rootToken)
  })
})
