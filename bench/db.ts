// GET /v1/stories/:id on real PostgreSQL, four ways in one run:
//   npm run bench -- db [--seconds 5] [--rounds 5] [--slices 5] [--connections 32] [--warm 40000]
//                       [--same-servers] [--database-url postgres://…]
// Each server gets --warm requests (lib.ts, WARM_REQUESTS) before it is measured; a round
// measures the three servers in --slices alternating turns (lib.ts, loadInterleaved).
// 1. the full Inkwell route, cache off (auth with a hot token, rate limiting, validation,
//    logging, metrics, deadline, view counting), 2. a bare Fastify route running the same query through the
//    same pool, 3. pgbench running that query with the same prepared-statement mode, and
//    4. the minimal pipeline (minimal-pipeline-server.ts): the same query with the issue's
//    duties done as cheaply as we know, the floor under Inkwell's way of doing them.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { findStory } from '../src/modules/stories/queries.ts'
import { loadOrCreateDevKey, signDevToken } from '../src/platform/auth/dev-idp.ts'
import {
  cpuOf,
  databaseUrlOption,
  type LoadResult,
  loadInterleaved,
  medianRound,
  perRound,
  ratio,
  roundsRow,
  type ServerProcess,
  scratchDatabase,
  share,
  startProcess,
  warmOption,
  warmUp,
} from './lib.ts'
import { seedBenchDatabase } from './seed.ts'

export const POOL = { DB_POOL_MAX: '16' }

/**
 * Inkwell as this scenario runs it. At info level, as in production: one access log line
 * per request is part of the route's cost. The cache off (the issue measures the database
 * path), rate limiting on and counted (in memory: no REDIS_URL) with limits no run can
 * reach, as a production route does.
 */
const INKWELL_DB_SCENARIO_ENV = {
  SEED_DEMO: 'false',
  LOG_LEVEL: 'info',
  CACHE_ENABLED: 'false',
  RATE_LIMIT_IP_MAX: '1000000000',
  RATE_LIMIT_READ_MAX: '1000000000',
}

/** What a server of this scenario runs, with which settings, and where its story route is. */
export interface ScenarioServer {
  name: string
  script: string
  env: Record<string, string>
  /** The story route's path, up to the id. */
  path: string
  headers?: Record<string, string> | undefined
}

/**
 * The scenario's three servers, in the order they are started and reported, on `env`
 * (database, data directory, pool) and with `authorization` (a hot token) where a route
 * checks one. bench/profile.ts profiles any two of them.
 */
export function dbScenarioServers(
  env: Record<string, string>,
  authorization: Record<string, string>,
): Record<'bare' | 'inkwell' | 'floor', ScenarioServer> {
  return {
    bare: {
      name: 'bare Fastify, same query and pool',
      script: 'bench/bare-story-server.ts',
      env,
      path: '/stories/',
    },
    inkwell: {
      name: 'Inkwell GET /v1/stories/:id (hot token)',
      script: 'src/server.ts',
      env: { ...env, ...INKWELL_DB_SCENARIO_ENV },
      path: '/v1/stories/',
      headers: authorization,
    },
    // What the duties (auth, limits, logging, validation) cost done as cheaply
    // as we know, in two hooks (minimal-pipeline-server.ts): the floor under Inkwell's way.
    floor: {
      name: 'minimal pipeline, same query (hot token)',
      script: 'bench/minimal-pipeline-server.ts',
      env: { ...env, BENCH_AUTH: 'true' },
      path: '/stories/',
      headers: authorization,
    },
  }
}

/** Seeds 20,000 stories; returns one story's id and its query as pgbench will run it. */
async function prepare(url: string, dataDir: string) {
  const { storyId, inspected } = await seedBenchDatabase(
    url,
    dataDir,
    { users: 1000, stories: 20_000 },
    async (database, id) => {
      let statement = ''
      database.setStatementHook((text, params) => {
        statement = params.reduce<string>((s, p, i) => s.replace(`$${i + 1}`, `'${String(p)}'`), text)
      })
      await findStory(database.db, id)
      return statement
    },
  )
  return { id: storyId, statement: inspected! }
}

function pgbench(
  url: string,
  statement: string,
  seconds: number,
  clients: number,
  prepared: boolean,
): number {
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-pgbench-'))
  const script = join(dir, 'story.sql')
  writeFileSync(script, `${statement};\n`)
  const u = new URL(url)
  const out = execFileSync(
    'pgbench',
    [
      '-n',
      '-M',
      prepared ? 'prepared' : 'extended',
      '-c',
      String(clients),
      '-j',
      '2',
      '-T',
      String(seconds),
      '-f',
      script,
      '-h',
      u.hostname,
      '-p',
      u.port || '5432',
      '-U',
      decodeURIComponent(u.username || 'postgres'),
      u.pathname.slice(1),
    ],
    { encoding: 'utf8' },
  )
  rmSync(dir, { recursive: true, force: true })
  return Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1] ?? 0)
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '32' },
      'database-url': databaseUrlOption,
      'same-servers': { type: 'boolean', default: false },
      warm: warmOption,
      slices: { type: 'string', default: '5' },
    },
  })
  const slices = Number(values.slices)
  const warmRequests = Number(values.warm)
  const seconds = Number(values.seconds)
  const rounds = Number(values.rounds)
  const connections = Number(values.connections)
  const scratch = await scratchDatabase(values['database-url']!, 'inkwell_bench')
  const dataDir = mkdtempSync(join(tmpdir(), 'inkwell-bench-'))
  try {
    process.stderr.write('seeding 20,000 stories…\n')
    const { id, statement } = await prepare(scratch.url, dataDir)
    process.stderr.write('measuring…\n')
    const env = { DATABASE_URL: scratch.url, DATA_DIR: dataDir, ...POOL }
    const token = await signDevToken(await loadOrCreateDevKey(dataDir), {
      subject: 'bench',
      ttlSeconds: 3600,
    })
    const servers: ServerProcess[] = []
    const authorization = { authorization: `Bearer ${token}` }
    const startAll = async () => {
      const scenarios: Array<ScenarioServer & { url: string; server: ServerProcess }> = []
      for (const kind of Object.values(dbScenarioServers(env, authorization))) {
        const server = await startProcess(kind.script, kind.env)
        servers.push(server)
        scenarios.push({ ...kind, url: `${server.baseUrl}${kind.path}${id}`, server })
      }
      for (const s of scenarios)
        await warmUp(s.url, { connections, requests: warmRequests, headers: s.headers })
      return scenarios
    }
    try {
      let scenarios = await startAll()
      // Interleaved within each round: a round's ratios compare its servers on the same machine state.
      const results: LoadResult[][] = scenarios.map(() => [])
      for (let round = 1; round <= rounds; round++) {
        process.stderr.write(`round ${round} of ${rounds}…\n`)
        if (round > 1 && !values['same-servers']) {
          // Fresh servers every round: now and then one instance runs a fifth
          // or more slower than its twins for its whole life (docs/caching.md, "Sixth
          // session"; seen here too: 61 % in every round of one run, 76–83 % in others).
          // Restarted, it weighs on one round, which the median leaves out.
          for (const server of servers.splice(0)) await server.stop()
          scenarios = await startAll()
        }
        const measured = await loadInterleaved(scenarios, { connections, seconds, slices })
        for (const [i, result] of measured.entries()) results[i]!.push(result)
      }
      for (const server of servers.splice(0)) await server.stop()

      const prepared = process.env.DB_PREPARED_STATEMENTS !== 'false'
      const tps = pgbench(scratch.url, statement, seconds * 2, 16, prepared)
      const [bareRuns, inkwellRuns, floorRuns] = results as [LoadResult[], LoadResult[], LoadResult[]]
      console.log(`\n${rounds} rounds of ${seconds} s each, ${connections} connections; median round:`)
      for (const [i, s] of scenarios.entries()) console.log(roundsRow(s.name, results[i]!))
      console.log(`${'pgbench, same statement'.padEnd(44)} ${tps.toFixed(0).padStart(7)} tps`)
      console.log(
        `\nInkwell / bare Fastify:          ${perRound(inkwellRuns, bareRuns, share)}   target ≥ 80%`,
      )
      console.log(`CPU per request, bare / Inkwell: ${perRound(bareRuns, inkwellRuns, share, cpuOf)}`)
      console.log(
        `minimal pipeline / bare:         ${perRound(floorRuns, bareRuns, share)}   (what the duties cost)`,
      )
      console.log(
        `Inkwell / minimal pipeline:      ${perRound(inkwellRuns, floorRuns, share)}   (what Inkwell's way of doing them costs)`,
      )
      console.log(`CPU per request, bare / minimal: ${perRound(bareRuns, floorRuns, share, cpuOf)}`)
      console.log(`bare Fastify / pgbench: ${ratio(medianRound(bareRuns).requests.average, tps)}`)
      console.log(`Inkwell / pgbench:      ${ratio(medianRound(inkwellRuns).requests.average, tps)}`)
      console.log(`(prepared statements ${prepared ? 'on' : 'off'})`)
    } finally {
      for (const server of servers) await server.stop()
    }
  } finally {
    await scratch.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
