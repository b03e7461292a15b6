import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { buildTestApp, flakyJob } from './helpers/app.ts'
import { sentryStandIn } from './helpers/sentry.ts'

const failingRoute = (message: string) => (app: import('fastify').FastifyInstance) => {
  app.get('/test/boom', async () => {
    throw new Error(message)
  })
}

test('a 500 goes to Sentry with its request id, route and method, and nothing of the request', async () => {
  const sentry = await sentryStandIn()
  const t = await buildTestApp({ SENTRY_DSN: sentry.dsn }, failingRoute('a bug in a handler'))
  const token = await t.token('sentry-reporting-user')
  const res = await t.app.inject({
    method: 'GET',
    url: '/test/boom?email=someone%40example.com',
    headers: { authorization: `Bearer ${token}`, cookie: 'sid=cookie-value' },
  })
  assert.equal(res.statusCode, 500)
  assert.equal(await t.platform.ctx.errors.flush(5000), true)

  assert.equal(sentry.envelopes.length, 1)
  const envelope = sentry.envelopes[0]!
  assert.match(envelope.url, /^\/api\/7\/envelope\//)
  const event = envelope.items[2] as {
    exception: { values: Array<{ type: string; value: string; stacktrace: { frames: unknown[] } }> }
    tags: Record<string, string>
    environment: string
  }
  assert.equal(event.exception.values[0]!.type, 'Error')
  assert.equal(event.exception.values[0]!.value, 'a bug in a handler')
  assert.ok(event.exception.values[0]!.stacktrace.frames.length > 0)
  assert.deepEqual(event.tags, { requestId: res.headers['x-request-id'], method: 'GET', route: '/test/boom' })
  assert.equal(event.environment, 'test')
  for (const secret of [token.split('.')[2]!, 'sentry-reporting-user', 'cookie-value', 'someone'])
    assert.ok(!envelope.raw.includes(secret), `${secret} reached Sentry`)
})

test('client errors and 503s are not reported', async () => {
  const sentry = await sentryStandIn()
  const t = await buildTestApp({ SENTRY_DSN: sentry.dsn })
  const notFound = await t.app.inject({ method: 'GET', url: '/v1/nope' })
  const invalid = await t.app.inject({ method: 'GET', url: '/v1/stories?limit=0' })
  await t.platform.ctx.database.close()
  const down = await t.app.inject({ method: 'GET', url: '/v1/stories' })
  assert.deepEqual([notFound.statusCode, invalid.statusCode], [404, 400])
  await t.platform.ctx.errors.flush(5000)
  // A closed embedded store is a 500 (reported); PostgreSQL away is a 503 (not reported).
  assert.equal(sentry.envelopes.length, down.statusCode === 500 ? 1 : 0)
})

test('without SENTRY_DSN nothing is sent; an unreachable Sentry loses the report, not the request', async () => {
  const quiet = await buildTestApp({}, failingRoute('not reported'))
  assert.equal(quiet.platform.ctx.errors.enabled, false)
  assert.equal((await quiet.app.inject({ method: 'GET', url: '/test/boom' })).statusCode, 500)

  // A port nothing listens on: delivery fails, is logged, and the API answers as before.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const unreachable = await buildTestApp(
    { SENTRY_DSN: `http://publickey@127.0.0.1:${port}/7` },
    failingRoute('sent nowhere'),
  )
  const res = await unreachable.app.inject({ method: 'GET', url: '/test/boom' })
  assert.equal(res.statusCode, 500)
  await unreachable.platform.ctx.errors.flush(5000)
  const after500 = await unreachable.app.inject({ method: 'GET', url: '/healthz' })
  assert.equal(after500.statusCode, 200)
})

test('a job whose last try failed is reported with its name; an earlier failed try is not', async () => {
  const sentry = await sentryStandIn()
  const t = await buildTestApp({ SENTRY_DSN: sentry.dsn })
  const job = flakyJob('test.flaky', 2)
  t.platform.ctx.jobs.register(job.definition)
  await t.platform.ctx.jobs.runNow('test.flaky')
  assert.equal(await t.platform.ctx.errors.flush(5000), true)
  assert.equal(job.tries(), 2)
  assert.equal(sentry.envelopes.length, 1)
  const event = sentry.envelopes[0]!.items[2] as {
    exception: { values: Array<{ value: string }> }
    tags: Record<string, string>
  }
  assert.equal(event.exception.values[0]!.value, 'try 2 failed')
  assert.deepEqual(event.tags, { job: 'test.flaky', process: 'api' })
})
