import assert from 'node:assert/strict'
import { after, describe, mock, test } from 'node:test'
import type { Config } from '../../src/config/schema.ts'
import { createSecretStore, SecretsUnavailableError } from '../../src/config/secrets/index.ts'
import { captureLog, manualClock } from './support/env.ts'
import { startVaultStandIn } from './support/vault-stand-in.ts'

const TTL_S = 60
const vault = await startVaultStandIn()
after(() => vault.close())

function vaultConfig(overrides: Partial<Config> = {}): Config {
  return vault.settings({ SECRETS_CACHE_TTL_S: TTL_S, ...overrides })
}

async function loadedStore() {
  const clock = manualClock()
  const capture = captureLog()
  const sleeps: number[] = []
  const store = createSecretStore(vaultConfig(), {
    now: clock.read,
    log: capture.log,
    sleep: async (ms) => {
      sleeps.push(ms)
    },
  })
  after(() => store.close())
  await store.load()
  return { store, clock, capture, sleeps }
}

const failures = async (store: { refreshFailures: { get(): Promise<{ values: { value: number }[] }> } }) =>
  (await store.refreshFailures.get()).values[0]?.value

describe('secret store: cache and refresh', () => {
  test('many reads within the TTL make one fetch', async () => {
    vault.put({ SECRET_KEY: 'v1', DATABASE_URL: 'postgres://u:p1@db/x' })
    const before = vault.log.reads
    const { store, clock } = await loadedStore()
    const reads = await Promise.all(Array.from({ length: 50 }, () => store.get('SECRET_KEY')))
    clock.advance(TTL_S * 1000 - 1)
    for (let i = 0; i < 50; i++) assert.equal(await store.get('DATABASE_URL'), 'postgres://u:p1@db/x')
    assert.ok(reads.every((v) => v === 'v1'))
    assert.equal(vault.log.reads - before, 1)
  })

  test('after the TTL the next reads refetch once, together, and see the new version', async () => {
    vault.put({ SECRET_KEY: 'v1' })
    const { store, clock, capture } = await loadedStore()
    vault.put({ SECRET_KEY: 'v2' })
    const before = vault.log.reads
    clock.advance(TTL_S * 1000)
    const reads = await Promise.all(Array.from({ length: 20 }, () => store.get('SECRET_KEY')))
    assert.deepEqual(new Set(reads), new Set(['v2']))
    assert.equal(vault.log.reads - before, 1)
    assert.match(capture.text(), /info secrets rotated \{"provider":"vault","settings":\["SECRET_KEY"\]\}/)
    assert.ok(!capture.text().includes('v2'))
  })

  test('the background refresh fetches every TTL without any reader', async () => {
    vault.put({ SECRET_KEY: 'v1' })
    const { store } = await loadedStore()
    mock.timers.enable({ apis: ['setInterval'] })
    try {
      store.startRefresh()
      vault.put({ SECRET_KEY: 'v3' })
      const before = vault.log.reads
      mock.timers.tick(TTL_S * 1000 - 1)
      assert.equal(vault.log.reads - before, 0)
      mock.timers.tick(1)
      await store.refresh() // joins the fetch the timer started
      assert.equal(vault.log.reads - before, 1)
      assert.equal(store.snapshot().SECRET_KEY, 'v3')
    } finally {
      store.close()
      mock.timers.reset()
    }
  })
})

describe('secret store: outages', () => {
  test('an outage at refresh keeps the last good values, logs and counts it', async () => {
    vault.put({ SECRET_KEY: 'good-value-1' })
    const { store, clock, capture } = await loadedStore()
    assert.equal(await failures(store), 0)
    vault.setDown(true)
    try {
      clock.advance(TTL_S * 1000)
      assert.equal(await store.get('SECRET_KEY'), 'good-value-1')
      assert.equal(await failures(store), 1)
      assert.match(capture.text(), /error secrets refresh failed; keeping the last good values/)
      // Readers do not hammer a provider that is down: no new attempt until the pause ends.
      const before = vault.log.reads
      assert.equal(await store.get('SECRET_KEY'), 'good-value-1')
      assert.equal(await failures(store), 1)
      assert.equal(vault.log.reads, before)
    } finally {
      vault.setDown(false)
    }
    vault.put({ SECRET_KEY: 'good-value-2' })
    clock.advance(30_000)
    assert.equal(await store.get('SECRET_KEY'), 'good-value-2')
    assert.ok(!capture.text().includes('good-value'))
  })

  test('an outage at startup fails after the bounded retries, with backoff, naming the cause', async () => {
    vault.control.sealed = true
    const sleeps: number[] = []
    const capture = captureLog()
    const before = vault.log.reads
    const store = createSecretStore(vaultConfig({ SECRETS_STARTUP_ATTEMPTS: 4 }), {
      log: capture.log,
      sleep: async (ms) => {
        sleeps.push(ms)
      },
    })
    try {
      await assert.rejects(store.load(), (err: unknown) => {
        assert.ok(err instanceof SecretsUnavailableError)
        assert.match(
          err.message,
          /secrets provider "vault" unavailable after 4 attempt\(s\): .*503: Vault is sealed/,
        )
        return true
      })
      assert.deepEqual(sleeps, [250, 500, 1000])
      assert.equal(vault.log.reads - before, 4)
      assert.equal(capture.lines.filter((l) => l.level === 'warn').length, 3)
    } finally {
      vault.control.sealed = false
      store.close()
    }
  })

  test('startup succeeds when the provider comes back within the retries', async () => {
    vault.put({ SECRET_KEY: 'back' })
    vault.setDown(true)
    const store = createSecretStore(vaultConfig(), {
      log: captureLog().log,
      sleep: async () => {
        vault.setDown(false)
      },
    })
    after(() => store.close())
    await store.load()
    assert.equal(store.snapshot().SECRET_KEY, 'back')
  })
})
