// The floor of the `cache` scenario: bare Fastify plus the least a cached story read must
// do, each part written as cheaply as we know how, all in one onRequest and one
// onResponse hook. It answers what Inkwell's pipeline could cost, so that the gap
// between Inkwell (b) and bare Fastify (a) can be split into what the duties cost and
// what Inkwell's way of doing them costs. Started by bench/cache.ts. Its duties:
//   a request id from pooled CSPRNG bytes; a per-IP counter in memory (a rate limit
//   without Redis); an AsyncLocalStorage scope for the request; the body from an
//   in-memory map, already serialized; Inkwell's response headers (security set,
//   ETag, cache control, request id, three RateLimit headers); a RED histogram
//   observation; one JSON access line through pino's destination.
// Not done here, though Inkwell does them: auth, CORS, deadline timers, load shedding,
// audit, parameter validation, view counting, ETag comparison, the cache's metrics.
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomFillSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import Fastify, { type FastifyRequest } from 'fastify'
import pino from 'pino'
import { Histogram, Registry } from 'prom-client'
import { API_SECURITY_HEADERS } from '../src/platform/http/security-headers.ts'

interface Scope {
  id: string
  started: number
  left: number
}

const json = readFileSync(process.env.BENCH_BODY_FILE!, 'utf8')
const stories = new Map([[process.env.BENCH_STORY_ID!, { json, etag: '"v1-floor"' }]])
const latency = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'latency',
  labelNames: ['method', 'route', 'status'],
  registers: [new Registry()],
}).labels('GET', '/stories/:id', '200')
// pino's destination (sonic-boom), as Inkwell's logger writes through.
const log = pino.destination({ fd: 1 })
const scope = new AsyncLocalStorage<Scope>()
const ids = Buffer.alloc(4096)
let idOffset = ids.length
const perIp = new Map<string, number>()
const scopes = new WeakMap<FastifyRequest, Scope>()

function requestId(): string {
  if (idOffset + 16 > ids.length) {
    randomFillSync(ids)
    idOffset = 0
  }
  idOffset += 16
  return ids.toString('hex', idOffset - 16, idOffset)
}

const app = Fastify()
app.addHook('onRequest', (request, _reply, done) => {
  const used = (perIp.get(request.ip) ?? 0) + 1
  perIp.set(request.ip, used)
  const s = { id: requestId(), started: performance.now(), left: 1_000_000_000 - used }
  scopes.set(request, s)
  scope.run(s, done)
})
app.addHook('onResponse', (request, reply, done) => {
  const s = scopes.get(request)!
  const ms = performance.now() - s.started
  latency.observe(ms / 1000)
  log.write(
    `{"level":"info","time":"${new Date().toISOString()}","pid":${process.pid},"reqId":"${s.id}","method":"GET","route":"/stories/:id","path":${JSON.stringify(request.url)},"status":${reply.statusCode},"durationMs":${Math.round(ms * 100) / 100},"ip":${JSON.stringify(request.ip)},"msg":"request completed"}\n`,
  )
  done()
})
app.get<{ Params: { id: string } }>('/stories/:id', (request, reply) => {
  const story = stories.get(request.params.id)
  if (!story) return reply.code(404).send()
  const s = scope.getStore()!
  return reply
    .headers(API_SECURITY_HEADERS)
    .headers({
      'x-request-id': s.id,
      etag: story.etag,
      'cache-control': 'public, max-age=0, must-revalidate',
      'ratelimit-limit': '1000000000',
      'ratelimit-remaining': String(s.left),
      'ratelimit-reset': '30',
      'content-type': 'application/json; charset=utf-8',
    })
    .send(story.json)
})
await app.listen({ host: '127.0.0.1', port: 0 })
process.stderr.write(
  `minimal-pipeline server listening at http://127.0.0.1:${(app.server.address() as { port: number }).port}\n`,
)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
