import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp, flakyJob, type TestApp } from './helpers/app.ts'
import { otlpStandIn } from './helpers/otlp.ts'

const SERVER = 2
const CLIENT = 3
const CONSUMER = 5
const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736'
const callerSpan = '00f067aa0ba902b7'

/** A route whose handler has a bug: its requests are 500s. */
const failingRoute = (app: import('fastify').FastifyInstance) => {
  app.get('/test/boom', async () => {
    throw new Error('a bug in a handler')
  })
}

async function tracedApp(ratio: number) {
  const collector = await otlpStandIn()
  const t = await buildTestApp(
    {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.endpoint,
      OTEL_TRACES_SAMPLER_ARG: String(ratio),
      OTEL_SERVICE_NAME: 'inkwell-test',
    },
    failingRoute,
  )
  const flush = () => t.platform.ctx.tracing.flush(5000)
  return { t, collector, flush }
}

/** A draft by the holder of `headers`, made untraced (no traceparent, ratio 0); its id. */
async function draft(t: TestApp, headers: Record<string, string>, body: string): Promise<string> {
  const created = await t.app.inject({
    method: 'POST',
    url: '/v1/stories',
    headers,
    payload: { title: 'Traced', body },
  })
  assert.equal(created.statusCode, 201)
  return created.json<{ id: string }>().id
}

test("a request is a server span in its caller's trace; its statements and Redis commands are child spans, without their values", async () => {
  const { t, collector, flush } = await tracedApp(0)
  const headers = await t.auth('tracing-author')
  const id = await draft(t, headers, 'a secret-ish body')
  const published = await t.app.inject({ method: 'POST', url: `/v1/stories/${id}/publish`, headers })
  assert.equal(published.statusCode, 200)
  // Another user's first request: its token is verified and its profile found after
  // awaits, and its read counts a view.
  const reader = await t.auth('tracing-reader')
  const res = await t.app.inject({
    method: 'GET',
    url: `/v1/stories/${id}`,
    headers: { ...reader, traceparent: `00-${callerTrace}-${callerSpan}-01` },
  })
  assert.equal(res.statusCode, 200)
  await flush()

  // Sampled because the caller sampled its trace, although the ratio for new traces is 0.
  const servers = collector.spans.filter((s) => s.kind === SERVER)
  assert.equal(servers.length, 1, 'only the request that carried a sampled traceparent')
  const server = servers[0]!
  assert.equal(server.traceId, callerTrace)
  assert.equal(server.parentSpanId, callerSpan)
  assert.equal(server.name, 'GET /v1/stories/:id')
  assert.equal(server.service, 'inkwell-test')
  assert.deepEqual(server.attributes, {
    'http.request.method': 'GET',
    'http.route': '/v1/stories/:id',
    'inkwell.request_id': res.headers['x-request-id'],
    'http.response.status_code': 200,
  })
  const children = collector.spans.filter((s) => s.parentSpanId === server.spanId)
  const statements = children.filter((s) => s.attributes['db.system.name'] === 'postgresql')
  assert.equal(
    children.length,
    statements.length + children.filter((s) => s.attributes['db.system.name'] === 'redis').length,
  )
  if (t.platform.ctx.database.kind === 'postgres') {
    assert.ok(statements.length >= 1, 'the story read is a child span')
    for (const s of statements) {
      assert.equal(s.kind, CLIENT)
      assert.equal(s.traceId, callerTrace)
      assert.equal(s.attributes['db.system.name'], 'postgresql')
      assert.match(String(s.attributes['db.query.text']), /\$1/)
    }
    assert.ok(statements.some((s) => s.name === 'SELECT'))
  } else assert.equal(statements.length, 0, 'the embedded store is not traced')
  // Redis commands (the view's dedupe key, the shared cache tier) are child spans, named by command only.
  const redisSpans = collector.spans.filter((s) => s.attributes['db.system.name'] === 'redis')
  if (t.platform.redis) {
    // Sent after the request's first await, when its scope is no longer current, each
    // must still find its parent: the reader's profile id (GET, then SET after the
    // query), the per-user limit's lease (a script), the story's shared-tier read (MGET)
    // and its fill after the load (a script), the view's dedupe key (SET … NX) and count
    // (HINCRBY). A script is EVALSHA, or EVAL where Redis did not have it yet.
    const names = redisSpans.map((s) => s.name)
    for (const command of ['GET', 'MGET', 'SET', 'HINCRBY'])
      assert.ok(names.includes(command), `${command} among ${names.join(', ')}`)
    assert.equal(names.filter((n) => n === 'SET').length, 2, names.join(', '))
    assert.ok(names.filter((n) => n === 'EVAL' || n === 'EVALSHA').length >= 2, names.join(', '))
    for (const s of redisSpans) {
      assert.equal(s.parentSpanId, server.spanId)
      assert.equal(s.kind, CLIENT)
      assert.match(s.name, /^[A-Z]+$/)
    }
  } else assert.equal(redisSpans.length, 0)
  // Nothing of the request beyond its route: no id, token, subject or body.
  const exported = collector.raw.join('')
  for (const secret of [
    id,
    headers.authorization.split('.')[2]!,
    reader.authorization.split('.')[2]!,
    'tracing-author',
    'tracing-reader',
    'secret-ish',
  ])
    assert.ok(!exported.includes(secret), `${secret} was exported`)
})

test("a write's cache invalidation, sent after its transaction, is under the write's span", async () => {
  const { t, collector, flush } = await tracedApp(0)
  const headers = await t.auth('tracing-publisher')
  const id = await draft(t, headers, 'text')
  const res = await t.app.inject({
    method: 'POST',
    url: `/v1/stories/${id}/publish`,
    headers: { ...headers, traceparent: `00-${callerTrace}-${callerSpan}-01` },
  })
  assert.equal(res.statusCode, 200)
  await flush()
  const servers = collector.spans.filter((s) => s.kind === SERVER)
  assert.deepEqual(
    servers.map((s) => s.name),
    ['POST /v1/stories/:id/publish'],
  )
  const redisSpans = collector.spans.filter((s) => s.attributes['db.system.name'] === 'redis')
  if (t.platform.redis) {
    // The author's profile page is dropped on every instance: the key's drop, then the
    // message to the other instances (PUBLISH), after the transaction's awaits.
    const names = redisSpans.map((s) => s.name)
    assert.ok(names.includes('PUBLISH'), names.join(', '))
    for (const s of redisSpans) assert.equal(s.parentSpanId, servers[0]!.spanId, s.name)
  } else assert.equal(redisSpans.length, 0)
})

test('new traces (requests and job tries) are sampled at OTEL_TRACES_SAMPLER_ARG; a 500 is a failed span', async () => {
  const none = await tracedApp(0)
  // No traceparent, one that does not parse, one whose caller did not sample: no spans.
  for (const traceparent of [undefined, 'junk', `00-${callerTrace}-${callerSpan}-00`]) {
    const headers = traceparent === undefined ? {} : { traceparent }
    assert.equal((await none.t.app.inject({ method: 'GET', url: '/v1/stories', headers })).statusCode, 200)
  }
  // A job's try starts a new trace too: sampled at the same ratio.
  none.t.platform.ctx.jobs.register(flakyJob('test.unsampled', 1, 0).definition)
  await none.t.platform.ctx.jobs.runNow('test.unsampled')
  await none.flush()
  assert.equal(none.collector.spans.length, 0)

  const all = await tracedApp(1)
  assert.equal((await all.t.app.inject({ method: 'GET', url: '/v1/stories' })).statusCode, 200)
  const failed = await all.t.app.inject({ method: 'GET', url: '/test/boom' })
  assert.equal(failed.statusCode, 500)
  await all.flush()
  const servers = all.collector.spans.filter((s) => s.kind === SERVER)
  assert.equal(servers.length, 2)
  assert.notEqual(
    servers[0]!.traceId,
    servers[1]!.traceId,
    'each request without a traceparent starts a trace',
  )
  assert.equal(servers[0]!.parentSpanId ?? '', '')
  assert.equal(servers[1]!.name, 'GET /test/boom')
  assert.equal(servers[1]!.attributes['http.response.status_code'], 500)
  assert.equal(servers[1]!.status?.code, 2, 'ERROR')
})

test('each try of a job is a span of its own trace, failed tries marked with their error class', async () => {
  const { t, collector, flush } = await tracedApp(1)
  t.platform.ctx.jobs.register(flakyJob('test.traced', 2, 1).definition)
  await t.platform.ctx.jobs.runNow('test.traced')
  await flush()
  const jobs = collector.spans.filter((s) => s.name === 'job test.traced')
  assert.equal(jobs.length, 2)
  assert.ok(jobs.every((s) => s.kind === CONSUMER))
  assert.deepEqual(
    jobs.map((s) => [
      s.attributes['inkwell.job.attempt'],
      s.status?.code ?? 0,
      s.attributes['error.type'] ?? null,
    ]),
    [
      [1, 2, 'TypeError'],
      [2, 0, null],
    ],
  )
})

test('tracing off by default; an unreachable collector costs spans, not requests', async () => {
  const quiet = await buildTestApp({})
  assert.equal(quiet.platform.ctx.tracing.enabled, false)
  const t = await buildTestApp({
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/v1/traces',
    OTEL_TRACES_SAMPLER_ARG: '1',
  })
  for (let i = 0; i < 3; i++)
    assert.equal((await t.app.inject({ method: 'GET', url: '/v1/stories' })).statusCode, 200)
  const started = Date.now()
  await t.platform.ctx.tracing.flush(1000)
  assert.ok(Date.now() - started < 3000, 'a flush gives up within its bound')
  assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
})
