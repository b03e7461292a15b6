import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'

const root = join(import.meta.dirname, '..', '..')

/**
 * Runs `body` in a child process whose stdout is a pipe, as under a container runtime,
 * with `log` the service's logger (createLogger) and `access` its access logger.
 */
function runLogging(body: string) {
  const script = `
    import { createLogger } from './src/platform/observability/logger.ts'
    import { accessLogger } from './src/platform/observability/access-log.ts'
    const log = createLogger('info')
    const access = accessLogger(log)
    ${body}
  `
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  })
  const lines = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
  return { signal: result.signal, lines }
}

const entry = (reqId: string) =>
  `{ reqId: '${reqId}', method: 'GET', route: '/healthz', path: '/healthz', status: 200, durationMs: 1, ip: '127.0.0.1' }`

test('a log line is on stdout when the call returns: a SIGKILL right after it loses nothing', () => {
  // Asynchronous writes (through the thread pool) would still be queued at the kill.
  const { signal, lines } = runLogging(`
    for (let i = 0; i < 50; i++) log.warn({ i }, 'before the kill')
    process.kill(process.pid, 'SIGKILL')
  `)
  assert.equal(signal, 'SIGKILL')
  assert.deepEqual(
    lines.map((line) => line.i),
    Array.from({ length: 50 }, (_, i) => i),
  )
})

test('access lines of a finished turn are out before the next; the current turn is what a SIGKILL loses', () => {
  const { signal, lines } = runLogging(`
    access(${entry('first-turn')})
    setImmediate(() => setImmediate(() => {
      access(${entry('killed-turn')})
      process.kill(process.pid, 'SIGKILL')
    }))
  `)
  assert.equal(signal, 'SIGKILL')
  assert.deepEqual(
    lines.map((line) => line.reqId),
    ['first-turn'],
  )
})

test('on a normal exit the current turn’s access lines are flushed', () => {
  const { signal, lines } = runLogging(`
    access(${entry('last-turn')})
    process.exit(0)
  `)
  assert.equal(signal, null)
  assert.deepEqual(
    lines.map((line) => line.reqId),
    ['last-turn'],
  )
})
