import assert from 'node:assert/strict'
import { Agent, request as httpRequest } from 'node:http'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freshDataDir } from '../helpers/app.ts'
import {
  type ApiProcess,
  embeddedApiEnv,
  refusesConnections,
  startApi,
  startSlowRequest,
} from './support/api-process.ts'

const started: ApiProcess[] = []
after(() => {
  for (const api of started) api.signal('SIGKILL')
})

async function start(extra: Record<string, string>): Promise<ApiProcess> {
  const api = await startApi(embeddedApiEnv({ DATA_DIR: freshDataDir(), ...extra }))
  started.push(api)
  return api
}

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function get(url: string, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function waitFor(condition: () => Promise<boolean>, what: string, limitMs: number) {
  const until = performance.now() + limitMs
  while (!(await condition())) {
    if (performance.now() > until) assert.fail(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

describe('graceful shutdown of a real server process', () => {
  test('SIGTERM: 503 readiness at once, serve through the drain, close, finish in-flight, exit 0', async () => {
    const drainMs = 1500
    const api = await start({ SHUTDOWN_DRAIN_MS: String(drainMs), SHUTDOWN_TIMEOUT_MS: '10000' })
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 })
    const before = await get(`${api.baseUrl}/v1/stories`, keepAlive)
    assert.equal(before.status, 200)
    assert.notEqual(before.headers.connection, 'close')
    const inFlight = await startSlowRequest(api.port)

    const signalledAt = performance.now()
    api.signal('SIGTERM')
    await waitFor(async () => (await get(`${api.baseUrl}/readyz`)).status === 503, 'readiness 503', 1000)
    const readyz = await get(`${api.baseUrl}/readyz`)
    assert.equal(JSON.parse(readyz.body).status, 'shutting_down')

    // Still serving during the drain, and telling keep-alive clients to go elsewhere.
    const during = await get(`${api.baseUrl}/v1/stories`, keepAlive)
    assert.equal(during.status, 200)
    assert.equal(during.headers.connection, 'close')
    assert.equal((await get(`${api.baseUrl}/healthz`)).status, 200)

    await waitFor(() => refusesConnections(api.port), 'the listener to close', drainMs + 5000)
    const closedAfter = performance.now() - signalledAt
    assert.ok(closedAfter >= drainMs - 50, `listener closed ${Math.round(closedAfter)} ms after SIGTERM`)

    // The request in flight since before the signal still gets its answer.
    assert.equal(api.child.exitCode, null, 'exited before its in-flight request finished')
    const response = await inFlight.finish()
    assert.match(response, /^HTTP\/1\.1 401 /, response)
    assert.match(response, /\r\nconnection: close\r\n/i)
    assert.equal(await api.exited, 0)
    assert.match(api.output(), /shut down cleanly/)
    keepAlive.destroy()
  })

  test('in-flight requests still running at SHUTDOWN_TIMEOUT_MS are cut, and the process exits 0', async () => {
    const api = await start({ SHUTDOWN_DRAIN_MS: '100', SHUTDOWN_TIMEOUT_MS: '700' })
    const stuck = await startSlowRequest(api.port)
    const signalledAt = performance.now()
    api.signal('SIGTERM')
    await stuck.closed
    const cutAfter = performance.now() - signalledAt
    assert.ok(cutAfter >= 700, `connection cut ${Math.round(cutAfter)} ms after SIGTERM`)
    assert.equal(await api.exited, 0)
    assert.match(api.output(), /closing their connections/)
  })

  test('a second signal exits at once', async () => {
    const api = await start({ SHUTDOWN_DRAIN_MS: '60000' })
    api.signal('SIGTERM')
    await waitFor(async () => (await get(`${api.baseUrl}/readyz`)).status === 503, 'readiness 503', 2000)
    const signalledAt = performance.now()
    api.signal('SIGTERM')
    const code = await api.exited
    assert.ok(performance.now() - signalledAt < 2000)
    assert.notEqual(code, 0)
  })

  test('SIGINT (a person at a terminal) skips the drain', async () => {
    const api = await start({ SHUTDOWN_DRAIN_MS: '60000' })
    const signalledAt = performance.now()
    api.signal('SIGINT')
    assert.equal(await api.exited, 0)
    assert.ok(performance.now() - signalledAt < 10_000)
  })
})
