import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import pino from 'pino'
import { buildApp } from '../../src/app.ts'
import { withDevSecretKey } from '../../src/config/dev-secret.ts'
import { loadConfigWithSecrets } from '../../src/config/load-with-secrets.ts'
import { createPlatform } from '../../src/platform/create-context.ts'
import { freshDataDir } from '../helpers/app.ts'
import { captureLog, manualClock, NO_DOTENV } from './support/env.ts'
import { startVaultStandIn } from './support/vault-stand-in.ts'

test("the app's /metrics counts failed secrets refreshes", async () => {
  const vault = await startVaultStandIn()
  after(() => vault.close())
  vault.put({ SENTRY_DSN: 'https://public@sentry.example.com/1' })
  const clock = manualClock()
  const loaded = await loadConfigWithSecrets(
    {
      ...process.env,
      NODE_ENV: 'test',
      DATA_DIR: freshDataDir(),
      SECRETS_PROVIDER: 'vault',
      SECRETS_VAULT_ADDR: vault.url,
      SECRETS_VAULT_TOKEN: vault.rootToken,
    },
    NO_DOTENV,
    { now: clock.read, log: captureLog().log },
  )
  assert.equal(loaded.sources.SENTRY_DSN, 'secrets:vault')
  const config = withDevSecretKey(loaded.config)
  const platform = await createPlatform(config, pino({ level: 'silent' }), { secrets: loaded.secrets })
  const app = await buildApp(platform)
  after(() => app.close())

  const scrape = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body
  assert.match(await scrape(), /^inkwell_secrets_refresh_failures_total\{provider="vault"\} 0$/m)
  assert.match(await scrape(), /^inkwell_secrets_last_success_timestamp_seconds\{provider="vault"\} \d+/m)

  vault.control.sealed = true
  assert.equal(await loaded.secrets.refresh(), false)
  assert.match(await scrape(), /^inkwell_secrets_refresh_failures_total\{provider="vault"\} 1$/m)
  vault.control.sealed = false
})
