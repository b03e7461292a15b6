// GET /v1/stories/:id from the two-tier cache, on real PostgreSQL and Redis, in one run:
//   npm run bench -- cache [--seconds 5] [--rounds 5] [--connections 32] [--auth] [--warm 40000]
//                          [--database-url postgres://…] [--redis-url redis://…]
// (a) bare Fastify answering a fixed JSON body the size of the story response; (b) Inkwell,
// CACHE_ENABLED=true, rate limiting off; (c) the same with rate limiting on, limits high
// enough that nothing is refused but every request counted (quota leased from Redis);
// (d) CACHE_ENABLED=false and (e) GET /healthz (Inkwell's pipeline alone), for reference;
// (f) bare Fastify plus a cached read's duties done as cheaply as we know
// (minimal-pipeline-server.ts): what the duties cost, as against Inkwell's way of doing them.
// Anonymous reads (the `ip` class) unless --auth (a hot token: the per-user `read` class
// too). The servers run side by side and the scenarios alternate round by round, so
// machine noise spreads over all of them; each figure is the median round. Inkwell's
// servers are started afresh every round (--same-servers keeps them for the whole run):
// now and then one instance runs a fifth slower than its twins for its whole life
// (docs/caching.md, "Sixth session"), which would otherwise weigh on every round alike.
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
  dropKeys,
  type LoadResult,
  load,
  perRound,
  redisUrlOption,
  roundsRow,
  type ServerProcess,
  scratchDatabase,
  share,
  startProcess,
  warmOption,
  warmUp,
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

/** What one server counted, from one read of its /metrics. */
interface Counts {
  /** Story cache hits (local, shared, coalesced) and misses (absent, bypass). */
  cache: number[]
  /** Rate-limit checks allowed and limited, and leases served by the local fallback. */
  checks: number[]
  /**
   * Full (major) collections and their seconds: a server whose young objects are being
   * promoted (docs/database.md, "GC: what outlived its request") makes many more than
   * its twins, so a run's slow scenario can be told from machine noise.
   */
  gc: number[]
}

async function countsOf(server: ServerProcess): Promise<Counts> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text()
  const hit = (tier: string) => sample(text, 'inkwell_cache_hits_total', { kind: 'story', tier })
  const miss = (reason: string) => sample(text, 'inkwell_cache_misses_total', { kind: 'story', reason })
  const checked = (outcome: string) => sample(text, 'inkwell_ratelimit_requests_total', { outcome })
  return {
    cache: [hit('local'), hit('shared'), hit('coalesced'), miss('absent'), miss('bypass')],
    checks: [checked('allowed'), checked('limited'), sample(text, 'inkwell_ratelimit_fallback_total', {})],
    gc: [
      sample(text, 'nodejs_gc_duration_seconds_count', { kind: 'major' }),
      sample(text, 'nodejs_gc_duration_seconds_sum', { kind: 'major' }),
    ],
  }
}

/** Adds `more` to `into`, figure by figure. */
function addCounts(into: Counts, more: Counts): void {
  for (const part of ['cache', 'checks', 'gc'] as const)
    for (const [i, n] of more[part].entries()) into[part][i] = (into[part][i] ?? 0) + n
}

function cacheReport([local = 0, shared = 0, coalesced = 0, absent = 0, bypass = 0]: number[]): string {
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

function rateLimitReport([allowed = 0, limited = 0, fallback = 0]: number[], counters: Map<string, number>) {
  const leased = [...counters.values()].reduce((sum, n) => sum + n, 0)
  return `${allowed} checks allowed, ${limited} limited, ${fallback} local fallbacks; Redis: ${counters.size} counters, ${leased} tokens leased`
}

const gcReport = ([count = 0, seconds = 0]: number[]) =>
  `${count} major GCs, ${(seconds * 1000).toFixed(0)} ms`

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '32' },
      auth: { type: 'boolean', default: false },
      'same-servers': { type: 'boolean', default: false },
      warm: warmOption,
      'database-url': databaseUrlOption,
      'redis-url': redisUrlOption,
    },
  })
  const warmRequests = Number(values.warm)
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
    const settings = {
      cached: { CACHE_ENABLED: 'true', RATE_LIMIT_ENABLED: 'false' },
      limited: { CACHE_ENABLED: 'true', RATE_LIMIT_ENABLED: 'true', ...limits },
      uncached: { CACHE_ENABLED: 'false', RATE_LIMIT_ENABLED: 'false' },
    }
    type Kind = keyof typeof settings
    const kinds = Object.keys(settings) as Kind[]
    const start = async (script: string, extra: Record<string, string>) => {
      const server = await startProcess(script, extra)
      servers.push(server)
      return server
    }
    const stop = async (server: ServerProcess) => {
      servers.splice(servers.indexOf(server), 1)
      await server.stop()
    }
    const startInkwell = async () => {
      const started = await Promise.all(
        kinds.map((kind) => start('src/server.ts', { ...env, ...settings[kind] })),
      )
      return Object.fromEntries(kinds.map((kind, i) => [kind, started[i]!])) as Record<Kind, ServerProcess>
    }
    const path = `/v1/stories/${id}`
    let inkwell = await startInkwell()
    const response = await fetch(`${inkwell.cached.baseUrl}${path}`, { headers })
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
    const body = await response.text()
    writeFileSync(join(dataDir, 'story.json'), body)
    const bare = await start('bench/bare-json-server.ts', { BENCH_BODY_FILE: join(dataDir, 'story.json') })
    const floor = await start('bench/minimal-pipeline-server.ts', {
      BENCH_BODY_FILE: join(dataDir, 'story.json'),
      BENCH_STORY_ID: id,
    })

    const scenarios: Array<{
      name: string
      /** On an Inkwell server (restarted every round), not on one of the bench's own. */
      inkwell?: true
      target: () => { url: string; server: ServerProcess }
    }> = [
      {
        name: `(a) bare Fastify, fixed ${body.length}-byte JSON`,
        target: () => ({ url: `${bare.baseUrl}/stories/${id}`, server: bare }),
      },
      {
        name: '(b) Inkwell, cache on, rate limits off',
        inkwell: true,
        target: () => ({ url: `${inkwell.cached.baseUrl}${path}`, server: inkwell.cached }),
      },
      {
        name: '(c) Inkwell, cache on, rate limits on',
        inkwell: true,
        target: () => ({ url: `${inkwell.limited.baseUrl}${path}`, server: inkwell.limited }),
      },
      {
        name: '(d) Inkwell, cache off (database)',
        inkwell: true,
        target: () => ({ url: `${inkwell.uncached.baseUrl}${path}`, server: inkwell.uncached }),
      },
      // The floor of Inkwell's per-request pipeline (hooks, headers, metrics, access log).
      {
        name: '(e) Inkwell GET /healthz, rate limits off',
        inkwell: true,
        target: () => ({ url: `${inkwell.cached.baseUrl}/healthz`, server: inkwell.cached }),
      },
      // What the same duties cost done as cheaply as we know (minimal-pipeline-server.ts).
      {
        name: '(f) minimal pipeline, same body',
        target: () => ({ url: `${floor.baseUrl}/stories/${id}`, server: floor }),
      },
    ]
    const warm = async (which: typeof scenarios) => {
      for (const s of which) await warmUp(s.target().url, { connections, requests: warmRequests, headers })
    }
    process.stderr.write('warming up…\n')
    await warm(scenarios)
    const results: LoadResult[][] = scenarios.map(() => [])
    const limiterCounters = new Map<string, number>()
    // What each kind of Inkwell server counted, summed over its instances.
    const totals = Object.fromEntries(
      kinds.map((kind): [Kind, Counts] => [kind, { cache: [], checks: [], gc: [] }]),
    ) as Record<Kind, Counts>
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`round ${round} of ${rounds}…\n`)
      if (round > 1 && !values['same-servers']) {
        // Fresh Inkwell servers every round (see the top of this file).
        inkwell = await startInkwell()
        await warm(scenarios.filter((s) => s.inkwell))
      }
      for (const [i, s] of scenarios.entries()) {
        const { url, server } = s.target()
        results[i]!.push(
          await load(url, { connections, seconds, headers, server }).catch((err: Error) => {
            throw new Error(`${s.name}: ${err.message}`)
          }),
        )
        if (server === inkwell.limited) await readLimiterCounters(redisUrl, prefix, limiterCounters)
      }
      if (round < rounds && values['same-servers']) continue
      for (const kind of kinds) addCounts(totals[kind], await countsOf(inkwell[kind]))
      if (round < rounds) for (const kind of kinds) await stop(inkwell[kind])
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
    console.log(`\nstory cache hit rate (b): ${cacheReport(totals.cached.cache)}`)
    console.log(`story cache hit rate (c): ${cacheReport(totals.limited.cache)}`)
    console.log(`story cache hit rate (d): ${cacheReport(totals.uncached.cache)}`)
    console.log(`rate limits (c): ${rateLimitReport(totals.limited.checks, limiterCounters)}`)
    console.log(
      `full collections: (b, e) ${gcReport(totals.cached.gc)}; (c) ${gcReport(totals.limited.gc)}; (d) ${gcReport(totals.uncached.gc)}`,
    )
  } finally {
    for (const server of servers) await server.stop()
    await scratch.drop()
    await dropKeys(redisUrl, prefix).catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
  }
}
