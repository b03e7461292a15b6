import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { assertProblem } from '../helpers/api.ts'
import { buildTestApp } from '../helpers/app.ts'

const DEADLINE_MS = 400

/** What the test routes saw, for assertions after the response. */
const seen = {
  lateDeadlineAborted: undefined as boolean | undefined,
  postDeadlineAborted: undefined as boolean | undefined,
  disconnectAborted: undefined as Promise<boolean> | undefined,
  handlerAfterSlowHook: false,
}

/** A route that takes a body declares it (a route without a body schema refuses one). */
const anyBody = { schema: { body: { type: 'object', additionalProperties: true } } }

function testRoutes(app: FastifyInstance) {
  app.get('/test/hang', async () => new Promise(() => {}))
  app.get('/test/late', async (request) => {
    await sleep(DEADLINE_MS + 300)
    seen.lateDeadlineAborted = request.deadline.aborted
    return { late: true }
  })
  app.get('/test/late-failure', async () => {
    await sleep(DEADLINE_MS + 100)
    throw new Error('late failure')
  })
  app.get('/test/own-deadline', { config: { timeoutMs: 3000 } }, async () => {
    await sleep(DEADLINE_MS + 300)
    return { ok: true }
  })
  app.get('/test/slow-hook', { preHandler: async () => sleep(DEADLINE_MS + 100) }, async () => {
    seen.handlerAfterSlowHook = true
    return {}
  })
  app.post('/test/slow-post', anyBody, async () => {
    await sleep(DEADLINE_MS + 300)
    return { late: true }
  })
  app.post('/test/echo', anyBody, async (request) => {
    await sleep(100)
    seen.postDeadlineAborted = request.deadline.aborted
    return { ok: true }
  })
  app.get('/test/until-disconnect', async (request) => {
    seen.disconnectAborted = new Promise((resolve) => {
      request.deadline.addEventListener('abort', () => resolve(true))
      setTimeout(() => resolve(false), 5000).unref()
    })
    return new Promise(() => {})
  })
}

const t = await buildTestApp({ REQUEST_TIMEOUT_MS: String(DEADLINE_MS) }, testRoutes)

/** Read from the registry, not GET /metrics: that route is bound by this app's short deadline too. */
async function metric(app: FastifyInstance, pattern: RegExp): Promise<number> {
  const line = (await app.metrics.metrics()).split('\n').find((l) => pattern.test(l))
  return line ? Number(line.split(' ').at(-1)) : 0
}

describe('request deadline', () => {
  test('a hung handler gets a 503 timeout problem at the deadline, not later', async () => {
    // Warm the error path once: the first response of a fresh process pays for compilation.
    await t.app.inject({ method: 'GET', url: '/test/hang' })
    const overruns: number[] = []
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = performance.now()
      const res = await t.app.inject({ method: 'GET', url: '/test/hang' })
      const elapsed = performance.now() - started
      const body = assertProblem(res, 503, 'timeout')
      assert.match(body.detail, new RegExp(`within ${DEADLINE_MS} ms`))
      assert.ok(elapsed >= DEADLINE_MS - 5, `answered after ${elapsed} ms, before the deadline`)
      overruns.push(elapsed - DEADLINE_MS)
    }
    // Within 100 ms of the deadline; one slow attempt is forgiven to a loaded test machine.
    assert.ok(Math.min(...overruns) < 100, `overruns ${overruns.map(Math.round).join(', ')} ms`)
    assert.ok(Math.max(...overruns) < 500, `overruns ${overruns.map(Math.round).join(', ')} ms`)
  })

  test('timeouts are counted per route', async () => {
    const route = /^http_request_timeouts_total\{method="GET",route="\/test\/hang"\}/
    const before = await metric(t.app, route)
    assertProblem(await t.app.inject({ method: 'GET', url: '/test/hang' }), 503, 'timeout')
    assert.equal(await metric(t.app, route), before + 1)
  })

  test('a result arriving after the deadline is discarded, and the handler can see why', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/late' })
    assertProblem(res, 503, 'timeout')
    await sleep(400)
    assert.equal(seen.lateDeadlineAborted, true)
  })

  test('a failure after the deadline does not disturb the next requests', async () => {
    assertProblem(await t.app.inject({ method: 'GET', url: '/test/late-failure' }), 503, 'timeout')
    await sleep(200)
    const res = await t.app.inject({ method: 'GET', url: '/healthz' })
    assert.equal(res.statusCode, 200)
  })

  test('a route may set its own deadline', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/own-deadline' })
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(res.json(), { ok: true })
  })

  test('the deadline covers hooks: a slow preHandler is cut, and the handler never runs', async () => {
    assertProblem(await t.app.inject({ method: 'GET', url: '/test/slow-hook' }), 503, 'timeout')
    await sleep(300)
    assert.equal(seen.handlerAfterSlowHook, false)
  })

  test('a request with a body is held to the deadline too', async () => {
    const started = performance.now()
    const res = await t.app.inject({ method: 'POST', url: '/test/slow-post', payload: { hello: 'world' } })
    assertProblem(res, 503, 'timeout')
    assert.ok(performance.now() - started < DEADLINE_MS + 250)
  })

  test('reading a request body does not abort the deadline signal', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/test/echo', payload: { hello: 'world' } })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(seen.postDeadlineAborted, false)
  })

  test('a client that goes away aborts the deadline signal', async () => {
    const address = await t.app.listen({ host: '127.0.0.1', port: 0 })
    const controller = new AbortController()
    const pending = fetch(`${address}/test/until-disconnect`, { signal: controller.signal })
    while (seen.disconnectAborted === undefined) await sleep(10)
    controller.abort()
    await assert.rejects(pending)
    assert.equal(await seen.disconnectAborted, true)
  })

  test('ordinary routes finish well inside the deadline', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/stories' })
    assert.equal(res.statusCode, 200, res.body)
  })
})
