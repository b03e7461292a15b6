import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import pino from 'pino'
import { effectiveSettings, REDACTED } from '../../src/config/describe.ts'
import { secretSettingNames, settingNames } from '../../src/config/settings.ts'
import { accessLogger } from '../../src/platform/observability/access-log.ts'
import { loggerOptions } from '../../src/platform/observability/logger.ts'
import { deferredChildLogger } from '../../src/platform/observability/request-logger.ts'

/** A destination that parses each JSON line written to it. */
function jsonLines() {
  const lines: Array<Record<string, unknown>> = []
  const writes: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      writes.push(String(chunk))
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, writes, sink }
}

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

/** Access lines are written at the end of the event-loop turn (access-log.ts). */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

test('access lines share the destination, level and bindings of the logger, in its shape', async () => {
  const { lines, writes, sink } = jsonLines()
  const log = pino(loggerOptions('info'), sink).child({ process: 'api' })
  const entry = {
    reqId: 'r1',
    method: 'GET',
    route: '/v1/stories/:id',
    // Quotes, a backslash and a control character stay inside one JSON string.
    path: '/v1/stories/"x\\y\u0001',
    status: 200,
    durationMs: 1.25,
    ip: '203.0.113.9',
  }
  const access = accessLogger(log)
  access(entry)
  assert.equal(lines.length, 0, 'written at the end of the turn, not at once')
  await endOfTurn()
  log.info(entry, 'request completed')
  assert.equal(lines.length, 2)
  const [written, byPino] = lines as [Record<string, unknown>, Record<string, unknown>]
  // The same fields in the same order as pino's own line for them; only the time differs.
  assert.deepEqual(Object.keys(written), Object.keys(byPino))
  assert.deepEqual({ ...written, time: 0 }, { ...byPino, time: 0 })
  assert.ok(!Number.isNaN(Date.parse(String(written.time))))
  assert.equal(written.process, 'api')

  // A duration JSON cannot carry still leaves a valid line.
  access({ ...entry, durationMs: Number.NaN })
  await endOfTurn()
  assert.equal(lines.length, 3)
  assert.equal(lines[2]!.durationMs, null)

  // The lines of one turn go out together, as one write, in order.
  access({ ...entry, reqId: 'r2' })
  access({ ...entry, reqId: 'r3' })
  const writesBefore = writes.length
  await endOfTurn()
  assert.equal(writes.length, writesBefore + 1)
  assert.deepEqual(
    lines.slice(3).map((l) => l.reqId),
    ['r2', 'r3'],
  )

  log.level = 'warn'
  access(entry)
  await endOfTurn()
  assert.equal(lines.length, 5, 'no access line below its level')
})

test('a request that logs nothing makes no child logger; one that logs gets the request id', () => {
  const { lines, sink } = jsonLines()
  const log = pino(loggerOptions('info'), sink)
  let children = 0
  const child = log.child.bind(log)
  log.child = ((...args: Parameters<typeof child>) => {
    children++
    return child(...args)
  }) as typeof log.child
  const requestLog = deferredChildLogger.call(null as never, log, { reqId: 'r7' }, {}, null as never)
  requestLog.debug('below the level')
  assert.equal(children, 0)
  assert.equal(requestLog.level, 'info')
  requestLog.warn({ headers: { authorization: 'Bearer secret-token' } }, 'something odd')
  requestLog.info('and more')
  assert.equal(children, 1, 'one child, made on the first line written')
  assert.deepEqual(
    lines.map((line) => [line.reqId, line.msg]),
    [
      ['r7', 'something odd'],
      ['r7', 'and more'],
    ],
  )
  assert.deepEqual(lines[0]!.headers, { authorization: '[redacted]' })
  // A route's own level is honoured: pino's child at once.
  const debugLog = deferredChildLogger.call(
    null as never,
    log,
    { reqId: 'r8' },
    { level: 'debug' },
    null as never,
  )
  debugLog.debug('now written')
  assert.equal(lines.at(-1)!.msg, 'now written')
})
