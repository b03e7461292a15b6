import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Counter, Histogram, Registry } from 'prom-client'
import { isoNow } from '../src/platform/observability/logger.ts'
import { pathOf } from '../src/platform/observability/metrics.ts'
import { RedMetrics } from '../src/platform/observability/red-metrics.ts'
import { tallies } from '../src/platform/observability/tallies.ts'

const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** prom-client's own Counter and Histogram, recording what RedMetrics records. */
function promClientPair(registry: Registry) {
  const labelNames = ['method', 'route', 'status'] as const
  const counter = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route template and status',
    labelNames,
    registers: [registry],
  })
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route template and status',
    labelNames,
    buckets: BOUNDS,
    registers: [registry],
  })
  return {
    record(method: string, route: string, status: number, seconds: number) {
      counter.inc({ method, route, status: String(status) })
      histogram.observe({ method, route, status: String(status) }, seconds)
    },
    count(method: string, route: string, status: number) {
      counter.inc({ method, route, status: String(status) })
    },
  }
}

test('the RED metrics export exactly what prom-client would for the same requests', async () => {
  const ours = new Registry()
  const theirs = new Registry()
  const red = new RedMetrics(ours, BOUNDS)
  const reference = promClientPair(theirs)
  // Durations on, between and beyond the bounds; routes with characters that need escaping.
  const requests: Array<[string, string, number, number]> = [
    ['GET', '/v1/stories/:id', 200, 0.0004],
    ['GET', '/v1/stories/:id', 200, 0.001],
    ['GET', '/v1/stories/:id', 200, 0.0031],
    ['GET', '/v1/stories/:id', 304, 0.2],
    ['POST', '/v1/stories/', 201, 12],
    ['GET', 'unmatched', 404, 0.05],
    ['GET', '/v1/profiles/:username/"quoted"\\', 200, 7.5],
  ]
  for (const [method, route, status, seconds] of requests) {
    red.record(method, route, status, seconds)
    reference.record(method, route, status, seconds)
  }
  red.count('-', 'unparsed', 431)
  reference.count('-', 'unparsed', 431)
  assert.equal(await ours.metrics(), await theirs.metrics())
  assert.match(
    await ours.metrics(),
    /http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/v1\/stories\/:id",status="200"\} 3/,
  )

  ours.resetMetrics()
  theirs.resetMetrics()
  assert.equal(await ours.metrics(), await theirs.metrics())
})

test('tallied counter increments reach prom-client when read, from every tally feeding the counter', async () => {
  const registry = new Registry()
  const counter = new Counter({
    name: 'hits_total',
    help: 'h',
    labelNames: ['kind', 'tier'],
    registers: [registry],
  })
  const first = tallies(counter, ['kind', 'tier'])
  const second = tallies(counter, ['kind', 'tier'])
  for (let i = 0; i < 5; i++) first('story', 'local').inc()
  second('story', 'local').inc()
  second('profile', 'shared').inc()
  const text = await registry.metrics()
  assert.match(text, /hits_total\{kind="story",tier="local"\} 6/)
  assert.match(text, /hits_total\{kind="profile",tier="shared"\} 1/)
  // Read again with nothing new: the tallies were added once, not twice.
  first('story', 'local').inc()
  assert.match(await registry.metrics(), /hits_total\{kind="story",tier="local"\} 7/)
})

test('log times are the current time in ISO 8601, to the millisecond', () => {
  const before = Date.now()
  const iso = isoNow()
  const after = Date.now()
  assert.match(iso, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  const at = Date.parse(iso)
  assert.ok(at >= before && at <= after, `${iso} outside [${before}, ${after}]`)
  // Within one millisecond the same text is reused; a later millisecond gets its own.
  const end = Date.now() + 3
  let changed = false
  let previous = isoNow()
  while (Date.now() < end) {
    const now = isoNow()
    if (now !== previous) changed = Date.parse(now) > Date.parse(previous)
    previous = now
  }
  assert.ok(changed, 'the time moved on')
})

test('the access line keeps a path without its query string', () => {
  assert.equal(pathOf('/v1/stories?author=alice&cursor=x'), '/v1/stories')
  assert.equal(pathOf('/v1/stories/abc'), '/v1/stories/abc')
  assert.equal(pathOf('/v1/stories/?'), '/v1/stories/')
  assert.equal(pathOf('/search?q=a?b'), '/search')
})
