// GET /v1/stories/:id on real PostgreSQL, three ways in one run:
//   npm run bench -- db [--seconds 10] [--connections 32] [--database-url postgres://…]
// 1. the full Inkwell route, cache off (auth with a hot token, rate limiting, validation,
//    logging, metrics, deadline, view counting), 2. a bare Fastify route running the same query through the
//    same pool, 3. pgbench running that query with the same prepared-statement mode.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { findStory } from '../src/modules/stories/queries.ts'
import { loadOrCreateDevKey, signDevToken } from '../src/platform/auth/dev-idp.ts'
import { databaseUrlOption, load, ratio, row, scratchDatabase, startProcess } from './lib.ts'
import { seedBenchDatabase } from './seed.ts'

const POOL = { DB_POOL_MAX: '16' }

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
      seconds: { type: 'string', default: '10' },
      connections: { type: 'string', default: '32' },
      'database-url': databaseUrlOption,
    },
  })
  const seconds = Number(values.seconds)
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
    const results: Array<[string, Awaited<ReturnType<typeof load>>]> = []

    const bare = await startProcess('bench/bare-story-server.ts', env)
    await load(`${bare.baseUrl}/stories/${id}`, { connections, seconds: 2 })
    results.push([
      'bare Fastify, same query and pool',
      await load(`${bare.baseUrl}/stories/${id}`, { connections, seconds, server: bare }),
    ])
    await bare.stop()

    // At info level, as in production: one access log line per request is part of the route's cost.
    // The cache off (the issue measures the database path), rate limiting on and counted
    // (in memory: no REDIS_URL) with limits no run can reach, as a production route does.
    const inkwell = await startProcess('src/server.ts', {
      ...env,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'info',
      CACHE_ENABLED: 'false',
      RATE_LIMIT_IP_MAX: '1000000000',
      RATE_LIMIT_READ_MAX: '1000000000',
    })
    const headers = { authorization: `Bearer ${token}` }
    await load(`${inkwell.baseUrl}/v1/stories/${id}`, { connections, seconds: 2, headers })
    results.push([
      'Inkwell GET /v1/stories/:id (hot token)',
      await load(`${inkwell.baseUrl}/v1/stories/${id}`, { connections, seconds, headers, server: inkwell }),
    ])
    await inkwell.stop()

    const prepared = process.env.DB_PREPARED_STATEMENTS !== 'false'
    const tps = pgbench(scratch.url, statement, seconds, 16, prepared)
    const [bareResult, inkwellResult] = [results[0]![1], results[1]![1]]
    for (const [name, r] of results) console.log(row(name, r))
    console.log(`${'pgbench, same statement'.padEnd(44)} ${tps.toFixed(0).padStart(7)} tps`)
    console.log(
      `\nInkwell / bare Fastify: ${ratio(inkwellResult.requests.average, bareResult.requests.average)}`,
    )
    if (bareResult.cpuUsPerRequest !== undefined && inkwellResult.cpuUsPerRequest !== undefined)
      console.log(
        `CPU per request, bare / Inkwell: ${ratio(bareResult.cpuUsPerRequest, inkwellResult.cpuUsPerRequest)}`,
      )
    console.log(`bare Fastify / pgbench: ${ratio(bareResult.requests.average, tps)}`)
    console.log(`Inkwell / pgbench:      ${ratio(inkwellResult.requests.average, tps)}`)
    console.log(
      `(prepared statements ${prepared ? 'on' : 'off'}, ${connections} connections, ${seconds} s each)`,
    )
  } finally {
    await scratch.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
