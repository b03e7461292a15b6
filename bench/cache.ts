// GET /v1/stories/:id from the two-tier cache, on real PostgreSQL and Redis, in one run:
//   npm run bench -- cache [--seconds 5] [--rounds 5] [--connections 32] [--auth]
//                          [--database-url postgres://…] [--redis-url redis://…]
// (a) bare Fastify answering a fixed JSON body the size of the story response; (b) Inkwell,
// CACHE_ENABLED=true, rate limiting off; (c) the same with rate limiting on, limits high
// enough that nothing is refused but every request counted (quota leased from Redis);
// (d) CACHE_ENABLED=false and (e) GET /healthz (Inkwell's pipeline alone), for reference;
// (f) bare Fastify plus a cached read's duties done as cheaply as we know
// (minimal-pipeline-server.ts): what the duties cost, as against Inkwell's way of doing them.
// Anonymous reads (the `ip` class) unless --auth (a hot token: the per-user `read` class
// too). The servers run side by side and the scenarios alternate round by round, so
// machine noise spreads over all of them; each figure is the median round.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { loadOrCreateDevKey, signDevToken } from '../src/platform/auth/dev-idp.ts'
import {
  cpuOf,
  databaseUrlOption,
  type LoadResult,
  load,
  perRound,
  roundsRow,
  type ServerProcess,
  scratchDatabase,
  share,
  startProcess,
} from './lib.ts'
import { seedBenchDatabase } from './seed.ts'

// Per user and per IP, per minute: far above what 2 cores serve, so nothing is refused;
// leases are max/20 capped at 1000 tokens, i.e. one Redis round trip per 1000 requests.
const HIGH_LIMIT = '100000000'

/** Sums a Prometheus counter's samples whose labels include `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))
    if (wanted) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

async function cacheReport(server: ServerProcess): Promise<string> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text()
  const hit = (tier: string) => sample(text, 'inkwell_cache_hits_total', { kind: 'story', tier })
  const [local, shared, coalesced] = [hit('local'), hit('shared'), hit('coalesced')]
  const absent = sample(text, 'inkwell_cache_misses_total', { kind: 'story', reason: 'absent' })
  const bypass = sample(text, 'inkwell_cache_misses_total', { kind: 'story', reason: 'bypass' })
  const hits = local + shared + coalesced
  const rate = hits + absent + bypass === 0 ? 0 : (100 * hits) / (hits + absent + bypass)
  return `${rate.toFixed(3)}% (hits: local ${local}, shared ${shared}, coalesced ${coalesced}; misses: absent ${absent}, bypass ${bypass})`
}

/**
 * The limiter's counters in Redis (`rl:*`, one per class, client and window), read after
 * each round of (c) and kept by key: a window's counter expires with its window, so one
 * read at the end of the run could find nothing left of the early rounds.
 */
async function readLimiterCounters(
  redisUrl: string,
  prefix: string,
  into: Map<string, number>,
): Promise<void> {
  const redis = new Redis(redisUrl)
  try {
    for await (const batch of redis.scanStream({ match: `${prefix}rl:*`, count: 1000 })) {
      for (const key of batch as string[]) {
        const value = Number((await redis.get(key)) ?? 0)
        into.set(key, Math.max(value, into.get(key) ?? 0))
      }
    }
  } finally {
    await redis.quit()
  }
}

async function rateLimitReport(server: ServerProcess, counters: Map<string, number>): Promise<string> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text()
  const allowed = sample(text, 'inkwell_ratelimit_requests_total', { outcome: 'allowed' })
  const limited = sample(text, 'inkwell_ratelimit_requests_total', { outcome: 'limited' })
  const fallback = sample(text, 'inkwell_ratelimit_fallback_total', {})
  const leased = [...counters.values()].reduce((sum, n) => sum + n, 0)
  return `${allowed} checks allowed, ${limited} limited, ${fallback} local fallbacks; Redis: ${counters.size} counters, ${leased} tokens leased`
}

/**
 * Full (major) collections a server made, and their time: a server whose young objects
 * are being promoted (docs/database.md, "GC: what outlived its request") makes many more
 * than its twins, and a run's slow scenario can then be told from machine noise.
 */
async function gcReport(server: ServerProcess): Promise<string> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text()
  const count = sample(text, 'nodejs_gc_duration_seconds_count', { kind: 'major' })
  const seconds = sample(text, 'nodejs_gc_duration_seconds_sum', { kind: 'major' })
  return `${count} major GCs, ${(seconds * 1000).toFixed(0)} ms`
}

async function dropKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl)
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    if ((batch as string[]).length > 0) await redis.del(...(batch as string[]))
  }
  await redis.quit()
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '32' },
      auth: { type: 'boolean', default: false },
      'database-url': databaseUrlOption,
      'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    },
  })
  const seconds = Number(values.seconds)
  const rounds = Number(values.rounds)
  const connections = Number(values.connections)
  const redisUrl = values['redis-url']!
  const prefix = `inkwell:bench:${randomBytes(4).toString('hex')}:`
  const scratch = await scratchDatabase(values['database-url']!, 'inkwell_bench')
  const dataDir = mkdtempSync(join(tmpdir(), 'inkwell-bench-'))
  const servers: ServerProcess[] = []
  try {
    process.stderr.write('seeding 2,000 stories…\n')
    const { storyId: id } = await seedBenchDatabase(scratch.url, dataDir, { users: 200, stories: 2000 })
    const headers: Record<string, string> = {}
    if (values.auth) {
      const key = await loadOrCreateDevKey(dataDir)
      headers.authorization = `Bearer ${await signDevToken(key, { subject: 'bench', ttlSeconds: 3600 })}`
    }
    const env = {
      DATABASE_URL: scratch.url,
      DATA_DIR: dataDir,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      SEED_DEMO: 'false',
      // At info level, as in production: the access log line is part of a request's cost.
      LOG_LEVEL: 'info',
      // Measure throughput, not the shedding that protects it.
      SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    }
    const limits = {
      RATE_LIMIT_IP_MAX: HIGH_LIMIT,
      RATE_LIMIT_READ_MAX: HIGH_LIMIT,
    }
    const start = async (extra: Record<string, string>) => {
      const server = await startProcess('src/server.ts', { ...env, ...extra })
      servers.push(server)
      return server
    }
    const cached = await start({ CACHE_ENABLED: 'true', RATE_LIMIT_ENABLED: 'false' })
    const limited = await start({ CACHE_ENABLED: 'true', RATE_LIMIT_ENABLED: 'true', ...limits })
    const uncached = await start({ CACHE_ENABLED: 'false', RATE_LIMIT_ENABLED: 'false' })
    const path = `/v1/stories/${id}`
    const response = await fetch(`${cached.baseUrl}${path}`, { headers })
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
    const body = await response.text()
    writeFileSync(join(dataDir, 'story.json'), body)
    const bare = await startProcess('bench/bare-json-server.ts', {
      BENCH_BODY_FILE: join(dataDir, 'story.json'),
    })
    servers.push(bare)
    const floor = await startProcess('bench/minimal-pipeline-server.ts', {
      BENCH_BODY_FILE: join(dataDir, 'story.json'),
      BENCH_STORY_ID: id,
    })
    servers.push(floor)

    const scenarios = [
      {
        name: `(a) bare Fastify, fixed ${body.length}-byte JSON`,
        url: `${bare.baseUrl}/stories/${id}`,
        server: bare,
      },
      { name: '(b) Inkwell, cache on, rate limits off', url: `${cached.baseUrl}${path}`, server: cached },
      { name: '(c) Inkwell, cache on, rate limits on', url: `${limited.baseUrl}${path}`, server: limited },
      { name: '(d) Inkwell, cache off (database)', url: `${uncached.baseUrl}${path}`, server: uncached },
      // The floor of Inkwell's per-request pipeline (hooks, headers, metrics, access log).
      { name: '(e) Inkwell GET /healthz, rate limits off', url: `${cached.baseUrl}/healthz`, server: cached },
      // What the same duties cost done as cheaply as we know (minimal-pipeline-server.ts).
      { name: '(f) minimal pipeline, same body', url: `${floor.baseUrl}/stories/${id}`, server: floor },
    ]
    process.stderr.write('warming up…\n')
    for (const s of scenarios) await load(s.url, { connections, seconds: 2, headers })
    const results: LoadResult[][] = scenarios.map(() => [])
    const limiterCounters = new Map<string, number>()
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`round ${round} of ${rounds}…\n`)
      for (const [i, s] of scenarios.entries()) {
        results[i]!.push(
          await load(s.url, { connections, seconds, headers, server: s.server }).catch((err: Error) => {
            throw new Error(`${s.name}: ${err.message}`)
          }),
        )
        if (s.server === limited) await readLimiterCounters(redisUrl, prefix, limiterCounters)
      }
    }

    console.log(
      `\n${rounds} rounds of ${seconds} s per scenario, ${connections} connections, ${values.auth ? 'one hot token' : 'anonymous'}; median round:`,
    )
    for (const [i, s] of scenarios.entries()) console.log(roundsRow(s.name, results[i]!))
    const perRoundOf = (
      x: number,
      y: number,
      f: (p: number, q: number) => number,
      of?: (r: LoadResult) => number,
    ) => perRound(results[x]!, results[y]!, f, of)
    const cost = (p: number, q: number) => 100 * (1 - p / q)
    console.log(`\ncached / bare (b/a):              ${perRoundOf(1, 0, share)}   target ≥ 50%`)
    console.log(`rate-limited / bare (c/a):        ${perRoundOf(2, 0, share)}`)
    console.log(`rate-limit cost 1 - (c)/(b):      ${perRoundOf(2, 1, cost)}   target ≤ 15%`)
    console.log(`uncached / cached (d/b):          ${perRoundOf(3, 1, share)}`)
    console.log(`healthz / bare (e/a):             ${perRoundOf(4, 0, share)}`)
    console.log(`cached story / healthz (b/e):     ${perRoundOf(1, 4, share)}`)
    console.log(`minimal pipeline / bare (f/a):    ${perRoundOf(5, 0, share)}   (what the duties cost)`)
    console.log(
      `cached / minimal pipeline (b/f):  ${perRoundOf(1, 5, share)}   (what Inkwell's way of doing them costs)`,
    )
    console.log(
      `CPU per request, bare / cached:   ${perRoundOf(0, 1, share, cpuOf)}   (the rate ratio if each server had a core to itself)`,
    )
    console.log(`CPU per request, bare / minimal:  ${perRoundOf(0, 5, share, cpuOf)}`)
    console.log(`\nstory cache hit rate (b): ${await cacheReport(cached)}`)
    console.log(`story cache hit rate (c): ${await cacheReport(limited)}`)
    console.log(`story cache hit rate (d): ${await cacheReport(uncached)}`)
    console.log(`rate limits (c): ${await rateLimitReport(limited, limiterCounters)}`)
    console.log(
      `full collections: (b, e) ${await gcReport(cached)}; (c) ${await gcReport(limited)}; (d) ${await gcReport(uncached)}`,
    )
  } finally {
    for (const server of servers) await server.stop()
    await scratch.drop()
    await dropKeys(redisUrl, prefix).catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
  }
}
