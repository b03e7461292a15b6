// The floor of the `cache` and `db` scenarios: bare Fastify plus the least the measured
// story read must do, each part written as cheaply as we know how, all in one onRequest
// and one onResponse hook. It answers what Inkwell's pipeline could cost, so that the
// gap between Inkwell and bare Fastify can be split into what the duties cost and what
// Inkwell's way of doing them costs. Started by bench/cache.ts and bench/db.ts. Its duties:
//   a request id from pooled CSPRNG bytes; a per-IP counter in memory (a rate limit
//   without Redis); with BENCH_AUTH=true, the bearer token's SHA-256 looked up in memory
//   (a hot token) and a per-subject counter; the id checked against the uuid pattern;
//   the story: from an in-memory map, already serialized (BENCH_BODY_FILE, the cache
//   scenario), or Inkwell's story query through the same pool, serialized by
//   JSON.stringify (DATABASE_URL, the db scenario); Inkwell's response headers (security
//   set, ETag, cache control, request id, three RateLimit headers); a latency histogram
//   observation; one JSON access line, written with the rest of its event-loop turn's
//   through pino's destination (as Inkwell's access log).
// Not done here, though Inkwell does them: CORS, deadline, load shedding, audit, text
// normalization, view counting, ETag computation and comparison, the API object and its
// schema serializer, the principal's profile, the cache's metrics.
import { hash, randomFillSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import pino from 'pino'
import { Registry } from 'prom-client'
import { API_SECURITY_HEADERS, headerWriter } from '../src/platform/http/security-headers.ts'
import { isPromise } from '../src/platform/maybe-promise.ts'
import { isoNow } from '../src/platform/observability/logger.ts'
import { RedMetrics } from '../src/platform/observability/red-metrics.ts'
import { serve } from './serve.ts'
import { openStoryDb } from './story-db.ts'

interface Scope {
  id: string
  started: number
  left: number
}

interface Found {
  json: string
  etag: string
}

/** The story's JSON and ETag: from the map (cache scenario) or the database (db scenario). */
function storySource(): {
  find(id: string): Found | undefined | Promise<Found | undefined>
  close(): unknown
} {
  if (process.env.BENCH_BODY_FILE) {
    const json = readFileSync(process.env.BENCH_BODY_FILE, 'utf8')
    const stories = new Map([[process.env.BENCH_STORY_ID!, { json, etag: '"v1-floor"' }]])
    return { find: (id) => stories.get(id), close() {} }
  }
  const db = openStoryDb()
  return {
    find: (id) =>
      db.findStory(id).then((row) => row && { json: JSON.stringify(row), etag: `"v${row.version}"` }),
    close: () => db.close(),
  }
}

const stories = storySource()
const withAuth = process.env.BENCH_AUTH === 'true'
// The cheapest ways we know, from Inkwell itself: its histogram (plain counters), its
// clock for the log line (ISO time formatted once per millisecond), headers set from
// arrays made once.
const red = new RedMetrics(new Registry(), [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1])
const writeSecurityHeaders = headerWriter(API_SECURITY_HEADERS)
// pino's destination written synchronously, as Inkwell's logger (logger.ts): the object
// form without `sync` would hand every write to the libuv thread pool, which took about
// 1.3 µs a request off the main thread that Inkwell spends (npm run bench -- profile).
const log = pino.destination({ dest: 1, sync: true })
let lines: string[] = []
const flushLines = () => {
  const text = lines.join('')
  lines = []
  log.write(text)
}
const ids = Buffer.alloc(4096)
let idOffset = ids.length
const perIp = new Map<string, number>()
const perSubject = new Map<string, number>()
const subjects = new Map<string, string>()
const scopes = new WeakMap<FastifyRequest, Scope>()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function requestId(): string {
  if (idOffset + 16 > ids.length) {
    randomFillSync(ids)
    idOffset = 0
  }
  idOffset += 16
  return ids.toString('hex', idOffset - 16, idOffset)
}

/** The subject of a hot token (every token is taken as the bench's); undefined without one. */
function subjectOf(authorization: string | undefined): string | undefined {
  if (!authorization?.startsWith('Bearer ')) return undefined
  const key = hash('sha256', authorization.slice(7), 'base64url')
  let subject = subjects.get(key)
  if (subject === undefined) {
    subject = 'bench'
    subjects.set(key, subject)
  }
  return subject
}

const app = Fastify()
app.addHook('onRequest', (request, reply, done) => {
  const used = (perIp.get(request.ip) ?? 0) + 1
  perIp.set(request.ip, used)
  // Before the token's check: a refused request is logged too.
  scopes.set(request, { id: requestId(), started: performance.now(), left: 1_000_000_000 - used })
  if (withAuth) {
    const subject = subjectOf(request.headers.authorization)
    if (subject === undefined) return void reply.code(401).send()
    perSubject.set(subject, (perSubject.get(subject) ?? 0) + 1)
  }
  done()
})
app.addHook('onResponse', (request, reply, done) => {
  const s = scopes.get(request)!
  const ms = performance.now() - s.started
  red.record('GET', '/stories/:id', reply.statusCode, ms / 1000)
  if (lines.length === 0) setImmediate(flushLines)
  lines.push(
    `{"level":"info","time":"${isoNow()}","pid":${process.pid},"reqId":"${s.id}","method":"GET","route":"/stories/:id","path":${JSON.stringify(request.url)},"status":${reply.statusCode},"durationMs":${Math.round(ms * 100) / 100},"ip":${JSON.stringify(request.ip)},"msg":"request completed"}\n`,
  )
  done()
})
function send(request: FastifyRequest, reply: FastifyReply, story: Found | undefined) {
  if (!story) return reply.code(404).send()
  const s = scopes.get(request)!
  writeSecurityHeaders(reply)
  return reply
    .header('x-request-id', s.id)
    .header('etag', story.etag)
    .header('cache-control', 'public, max-age=0, must-revalidate')
    .header('ratelimit-limit', '1000000000')
    .header('ratelimit-remaining', String(s.left))
    .header('ratelimit-reset', '30')
    .header('content-type', 'application/json; charset=utf-8')
    .send(story.json)
}

// Without a promise when the story is in memory (the cache scenario), as Inkwell's cached read.
app.get<{ Params: { id: string } }>('/stories/:id', (request, reply) => {
  if (!UUID.test(request.params.id)) return reply.code(400).send()
  const found = stories.find(request.params.id)
  return isPromise(found) ? found.then((story) => send(request, reply, story)) : send(request, reply, found)
})
await serve(app, 'minimal-pipeline server', stories.close)
