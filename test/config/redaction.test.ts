import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import pino from 'pino'
import { effectiveSettings, REDACTED } from '../../src/config/describe.ts'
import { secretSettingNames, settingNames } from '../../src/config/settings.ts'
import { loggerOptions } from '../../src/platform/observability/logger.ts'

const sampleValue = (name: string) => `value-of-${name.toLowerCase()}-5e1d`

test('config check shows every secret setting as [redacted], and the rest as is', () => {
  const config = Object.fromEntries(settingNames.map((name) => [name, sampleValue(name)]))
  const rows = effectiveSettings(config, {})
  for (const row of rows) {
    const secret = secretSettingNames.includes(row.name)
    assert.equal(row.value, secret ? REDACTED : sampleValue(row.name), row.name)
  }
  assert.ok(secretSettingNames.includes('SENTRY_DSN'))
  assert.ok(secretSettingNames.includes('SECRETS_VAULT_SECRET_ID'))
})

test('logs redact every secret setting wherever a config object is logged', () => {
  let output = ''
  const sink = new Writable({
    write(chunk, _encoding, done) {
      output += chunk
      done()
    },
  })
  const log = pino(loggerOptions('info'), sink)
  const config = Object.fromEntries(secretSettingNames.map((name) => [name, sampleValue(name)]))
  log.info({ config }, 'effective configuration')
  assert.ok(output.includes('[redacted]'))
  for (const name of secretSettingNames)
    assert.ok(!output.includes(sampleValue(name)), `${name} leaked into logs`)
})
