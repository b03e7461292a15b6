// Instructions per request, counted by valgrind's callgrind, for the two routes the
// throughput benches time (db.ts, cache.ts), against their bare baselines (and, in the
// db scenario, the minimal pipeline: db.ts's three servers):
//   npm run bench -- instructions [--requests 3000] [--warm 20000] [--scenario db|cache|all]
//                                 [--simulate] [--keep DIR]
// --keep DIR copies each server's measured callgrind dump to DIR, for callgrind_annotate.
// --simulate adds callgrind's cache and branch-predictor simulation and reports, per
// request, the main thread's L1 misses and mispredicted branches: where two servers run
// the same instructions at different speeds, this is what differs (docs/database.md, run 17).
//
// Why: on a small, shared machine req/s and CPU time drift by a third within minutes. The
// count of instructions a server's main thread executes per request does not drift with
// whatever else runs; two identical server instances still differ by up to about 5 %
// (JIT decisions), so it shows changes larger than that, and ratios, steadily. It is not
// throughput: it leaves out the kernel, cache misses and the other threads (JIT compiler,
// GC helpers), which the report gives separately. Needs `valgrind` (Debian package).
// Slow: a few minutes.
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadOrCreateDevKey, signDevToken } from '../src/platform/auth/dev-idp.ts'
import { dbScenarioServers, POOL } from './db.ts'
import {
  databaseUrlOption,
  dropKeys,
  load,
  redisUrlOption,
  type ServerProcess,
  scratchDatabase,
  startProcess,
} from './lib.ts'
import { seedBenchDatabase } from './seed.ts'

/**
 * Under callgrind a server runs some fifty times slower, so work done per second of
 * wall time (jobs, samplers) would be charged to a few requests: those intervals are
 * stretched out of the measured window.
 */
const QUIET_TIMERS = {
  TRENDING_REFRESH_S: '3600',
  VIEW_FLUSH_INTERVAL_S: '60',
  AUDIT_SEAL_INTERVAL_MS: '60000',
  AUDIT_AGGREGATE_WINDOW_S: '3600',
  SHED_SAMPLE_INTERVAL_MS: '60000',
  SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
  REQUEST_TIMEOUT_MS: '60000',
}
/**
 * Valgrind names its control pipe after $HOST and $USER (or $LOGNAME), so the server and
 * callgrind_control must see the same values: this environment goes to both.
 */
const controlEnv = { ...process.env, HOST: '127.0.0.1', USER: 'inkwell-bench', LOGNAME: 'inkwell-bench' }

interface Counted {
  name: string
  url: string
  headers?: Record<string, string>
  server: ServerProcess
  outDir: string
}

/** With --simulate: L1 instruction and data (read, write) misses, mispredicted conditional and indirect branches. */
const SIMULATED = ['I1mr', 'D1mr', 'D1mw', 'Bcm', 'Bim'] as const

/** Starts `script` under callgrind with instrumentation off until the warm-up is done. */
async function startCounted(script: string, env: Record<string, string>, baseDir: string, simulate: boolean) {
  const outDir = mkdtempSync(join(baseDir, 'cg-'))
  const server = await startProcess(script, { ...QUIET_TIMERS, ...env, ...controlEnv }, [
    'valgrind',
    '--tool=callgrind',
    // V8 writes and rewrites machine code on the heap.
    '--smc-check=all-non-file',
    '--instr-atstart=no',
    '--separate-threads=yes',
    ...(simulate ? ['--cache-sim=yes', '--branch-sim=yes'] : []),
    `--callgrind-out-file=${join(outDir, 'cg.%p')}`,
  ])
  return { server, outDir }
}

const control = (server: ServerProcess, ...args: string[]) =>
  execFileSync('callgrind_control', [...args, String(server.pid)], { env: controlEnv, stdio: 'ignore' })

/**
 * Since the last dump, from a fresh one: the instructions of all threads, and every
 * counted event of the main thread (`Ir`, instructions; with --simulate also SIMULATED).
 */
function dump(counted: Counted, keep?: string): { main: Record<string, number>; all: number } {
  control(counted.server, '--dump')
  const main: Record<string, number> = {}
  let all = 0
  for (const file of readdirSync(counted.outDir).filter((f) => /^cg\.\d+\.\d+-\d+$/.test(f))) {
    const text = readFileSync(join(counted.outDir, file), 'utf8')
    if (keep) copyFileSync(join(counted.outDir, file), join(keep, `${slug(counted.name)}.${file}`))
    rmSync(join(counted.outDir, file))
    const events = /^events: (.+)$/m.exec(text)?.[1]?.split(' ') ?? ['Ir']
    const totals = (/^totals: (.+)$/m.exec(text)?.[1]?.split(' ') ?? []).map(Number)
    all += totals[0] ?? 0
    // Thread 01 is the one that started first: the event loop.
    if (file.endsWith('-01'))
      for (const [i, event] of events.entries()) main[event] = (main[event] ?? 0) + (totals[i] ?? 0)
  }
  return { main, all }
}

const slug = (name: string) => name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()

async function measure(counted: Counted, warm: number, requests: number, keep?: string) {
  const shoot = (amount: number) =>
    load(counted.url, { connections: 8, amount, headers: counted.headers, timeoutSeconds: 120 })
  await shoot(warm)
  dump(counted) // discard the warm-up (recorded with instrumentation off: nearly nothing)
  control(counted.server, '--instr=on')
  await shoot(requests)
  control(counted.server, '--instr=off')
  const { main, all } = dump(counted, keep)
  const perRequest = Object.fromEntries(Object.entries(main).map(([event, n]) => [event, n / requests]))
  return { name: counted.name, main: perRequest.Ir ?? 0, all: all / requests, events: perRequest }
}

type Result = Awaited<ReturnType<typeof measure>>

function report(title: string, baseline: Result, others: Result[]) {
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`.padStart(8)
  console.log(`\n${title}: instructions per request (main thread; all threads)`)
  for (const r of [baseline, ...others]) console.log(`  ${r.name.padEnd(40)} ${k(r.main)}  ${k(r.all)}`)
  for (const r of others)
    console.log(
      `  ${baseline.name} / ${r.name}: ${((100 * baseline.main) / r.main).toFixed(1)} % (main thread)`,
    )
  if (baseline.events.I1mr === undefined) return
  console.log(`  simulated, main thread, per request: ${SIMULATED.join(' ')}`)
  for (const r of [baseline, ...others])
    console.log(
      `  ${r.name.padEnd(40)} ${SIMULATED.map((e) => (r.events[e] ?? 0).toFixed(0).padStart(6)).join(' ')}`,
    )
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      requests: { type: 'string', default: '3000' },
      // After 6,000, Inkwell's JIT was still compiling: its count moved by a sixth between runs.
      warm: { type: 'string', default: '20000' },
      scenario: { type: 'string', default: 'all' },
      keep: { type: 'string' },
      simulate: { type: 'boolean', default: false },
      'database-url': databaseUrlOption,
      'redis-url': redisUrlOption,
    },
  })
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
  } catch {
    throw new Error('this bench needs valgrind (Debian: apt-get install valgrind)')
  }
  const requests = Number(values.requests)
  const warm = Number(values.warm)
  const scenario = values.scenario!
  const keep = values.keep
  const simulate = values.simulate!
  if (keep) mkdirSync(keep, { recursive: true })
  if (!['db', 'cache', 'all'].includes(scenario)) throw new Error('--scenario is db, cache or all')
  const scratch = await scratchDatabase(values['database-url']!, 'inkwell_bench')
  const dataDir = mkdtempSync(join(tmpdir(), 'inkwell-bench-'))
  const servers: ServerProcess[] = []
  // Servers under callgrind are large: each scenario's go before the next one's start.
  const stopAll = async () => {
    for (const server of servers.splice(0)) await server.stop()
  }
  const redisPrefix = `bench-instr-${process.pid}:`
  try {
    process.stderr.write('seeding 20,000 stories…\n')
    const { storyId: id } = await seedBenchDatabase(scratch.url, dataDir, { users: 1000, stories: 20_000 })
    const token = await signDevToken(await loadOrCreateDevKey(dataDir), {
      subject: 'bench',
      ttlSeconds: 7200,
    })
    const env = { DATABASE_URL: scratch.url, DATA_DIR: dataDir, ...POOL }
    const start = async (
      name: string,
      script: string,
      settings: Record<string, string>,
      path: string,
      headers?: Record<string, string>,
    ) => {
      const { server, outDir } = await startCounted(script, settings, dataDir, simulate)
      servers.push(server)
      return { name, url: `${server.baseUrl}${path}`, headers, server, outDir } satisfies Counted
    }
    process.stderr.write('starting servers under callgrind (slow)…\n')
    if (scenario !== 'cache') {
      // bench/db.ts's three servers with its settings: the cache off, a hot token, rate
      // limiting counted in memory.
      const scenarioServers = dbScenarioServers(env, { authorization: `Bearer ${token}` })
      const counted = await Promise.all(
        Object.values(scenarioServers).map((s) =>
          start(s.name, s.script, s.env, `${s.path}${id}`, s.headers),
        ),
      )
      const [bare, inkwell, floor] = await Promise.all(counted.map((c) => measure(c, warm, requests, keep)))
      report('GET /v1/stories/:id from PostgreSQL (db)', bare!, [inkwell!, floor!])
      await stopAll()
    }
    if (scenario !== 'db') {
      // As bench/cache.ts: anonymous, the story in the local cache, Redis behind it.
      const cacheEnv = {
        ...env,
        SEED_DEMO: 'false',
        LOG_LEVEL: 'info',
        RATE_LIMIT_IP_MAX: '1000000000',
        RATE_LIMIT_READ_MAX: '1000000000',
        REDIS_URL: values['redis-url']!,
        REDIS_KEY_PREFIX: redisPrefix,
      }
      const path = `/v1/stories/${id}`
      const cached = await start(
        'Inkwell cached',
        'src/server.ts',
        { ...cacheEnv, CACHE_ENABLED: 'true', RATE_LIMIT_ENABLED: 'false' },
        path,
      )
      writeFileSync(join(dataDir, 'story.json'), await (await fetch(cached.url)).text())
      const counted = await Promise.all([
        start(
          'bare Fastify, same body',
          'bench/bare-json-server.ts',
          { BENCH_BODY_FILE: join(dataDir, 'story.json') },
          path.replace('/v1', ''),
        ),
        start(
          'Inkwell cached, rate-limited',
          'src/server.ts',
          { ...cacheEnv, CACHE_ENABLED: 'true', RATE_LIMIT_ENABLED: 'true' },
          path,
        ),
      ])
      const [bare, limited, plain] = await Promise.all(
        [...counted, cached].map((c) => measure(c, warm, requests, keep)),
      )
      report('GET /v1/stories/:id from the cache (cache)', bare!, [plain!, limited!])
      console.log(
        `  rate-limit cost: ${((100 * (limited!.main - plain!.main)) / limited!.main).toFixed(1)} % of the limited read (main thread)`,
      )
    }
  } finally {
    await stopAll()
    await dropKeys(values['redis-url']!, redisPrefix).catch(() => {})
    await scratch.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
