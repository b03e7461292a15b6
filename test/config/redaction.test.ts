import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import pino from 'pino'
import { effectiveSettings, REDACTED } from '../../src/config/describe.ts'
import { secretSettingNames, settingNames } from '../../src/config/settings.ts'
import { loggerOptions, withoutRedaction } from '../../src/platform/observability/logger.ts'

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

test('the access logger shares the destination, level and bindings, and only it skips redaction', () => {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  const log = pino(loggerOptions('info'), sink).child({ process: 'api' })
  const access = withoutRedaction(log)
  access.info({ reqId: 'r1', path: '/v1/stories', status: 200 }, 'request completed')
  access.debug('below the level')
  log.info({ headers: { authorization: 'Bearer secret-token' } }, 'a line that needs redaction')
  assert.equal(lines.length, 2)
  assert.deepEqual(
    [lines[0]!.process, lines[0]!.reqId, lines[0]!.path, lines[0]!.msg],
    ['api', 'r1', '/v1/stories', 'request completed'],
  )
  assert.deepEqual(lines[1]!.headers, { authorization: '[redacted]' })
})
