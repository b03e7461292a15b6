import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { ConfigSchema } from '../../src/config/schema.ts'
import { assertProblem } from '../helpers/api.ts'
import { buildTestApp } from '../helpers/app.ts'

const SAMPLE_MS = '25'

/** Repeats a request until `accept` holds for its response; fails after `limitMs`. */
async function until(
  app: FastifyInstance,
  url: string,
  accept: (res: LightMyRequestResponse) => boolean,
  limitMs = 5000,
): Promise<LightMyRequestResponse> {
  const end = performance.now() + limitMs
  for (;;) {
    const res = await app.inject({ method: 'GET', url })
    if (accept(res)) return res
    if (performance.now() > end) assert.fail(`no accepted response from ${url}; last: ${res.statusCode}`)
    await sleep(20)
  }
}

async function shedCount(app: FastifyInstance, reason: string): Promise<number> {
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  const line = res.body.split('\n').find((l) => l.startsWith(`http_requests_shed_total{reason="${reason}"}`))
  return line ? Number(line.split(' ').at(-1)) : 0
}

describe('load shedding', () => {
  test('past the heap threshold, requests get 503 with Retry-After; probes and metrics still answer', async () => {
    const t = await buildTestApp({
      SHED_MAX_HEAP_USED_RATIO: '0.0001',
      SHED_SAMPLE_INTERVAL_MS: SAMPLE_MS,
      SHED_RETRY_AFTER_S: '7',
    })
    const res = await until(t.app, '/v1/stories', (r) => r.statusCode === 503)
    const body = assertProblem(res, 503, 'service_unavailable')
    assert.match(body.detail, /overloaded/)
    assert.equal(res.headers['retry-after'], '7')
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
    assert.ok((await shedCount(t.app, 'heapUsedBytes')) >= 1)
  })

  test('a blocked event loop sheds new requests until it recovers', async () => {
    const t = await buildTestApp({
      SHED_MAX_EVENT_LOOP_DELAY_MS: '40',
      SHED_SAMPLE_INTERVAL_MS: SAMPLE_MS,
    })
    // Shedding arms two samples after startup; an ordinary request passes first.
    await until(t.app, '/v1/stories', (r) => r.statusCode === 200)
    await sleep(Number(SAMPLE_MS) * 3)
    // Keep the loop busy across whole samples, as a CPU-bound overload would.
    const busyUntil = performance.now() + 300
    while (performance.now() < busyUntil) {
      const spin = performance.now() + 60
      while (performance.now() < spin) {}
      await new Promise((resolve) => setImmediate(resolve))
    }
    const shed = await t.app.inject({ method: 'GET', url: '/v1/stories' })
    assertProblem(shed, 503, 'service_unavailable')
    assert.ok(shed.headers['retry-after'])
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
    assert.ok((await shedCount(t.app, 'eventLoopDelay')) >= 1)
    // Once the loop is free again, the next samples readmit requests.
    await until(t.app, '/v1/stories', (r) => r.statusCode === 200)
  })

  test('with the default thresholds an idle server sheds nothing', async () => {
    const defaultOf = (name: 'SHED_MAX_EVENT_LOOP_DELAY_MS' | 'SHED_SAMPLE_INTERVAL_MS') =>
      (ConfigSchema.properties[name] as unknown as { default: number }).default
    // The test helper turns event-loop shedding off; put the production default back.
    const t = await buildTestApp({
      SHED_MAX_EVENT_LOOP_DELAY_MS: String(defaultOf('SHED_MAX_EVENT_LOOP_DELAY_MS')),
    })
    // Shedding arms two samples after startup; wait for a sample after that.
    await sleep(3 * defaultOf('SHED_SAMPLE_INTERVAL_MS') + 200)
    for (let i = 0; i < 20; i++) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/stories' })
      assert.equal(res.statusCode, 200, res.body)
    }
    assert.equal(await shedCount(t.app, 'eventLoopDelay'), 0)
    assert.equal(await shedCount(t.app, 'heapUsedBytes'), 0)
  })
})
