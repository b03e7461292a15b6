#!/usr/bin/env node
// Runs the test suite with node:test.
//   node scripts/run-tests.mjs             embedded default (PGlite, memory cache): no services needed
//   node scripts/run-tests.mjs --services  against DATABASE_URL and REDIS_URL, in a fresh database
// Extra arguments are test files (default: every *.test.ts under src/ and test/).
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import pg from 'pg'

const root = resolve(import.meta.dirname, '..')
const args = process.argv.slice(2)
const services = args.includes('--services')
const files = args.filter((a) => !a.startsWith('--'))
const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const tmp = join(root, '.tmp', `run-${runId}`)
mkdirSync(join(tmp, 'tmp'), { recursive: true })

function findTests(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : findTests(path)
    return name.endsWith('.test.ts') ? [path] : []
  })
}

const env = {
  ...process.env,
  NODE_ENV: 'test',
  // PGlite and tsx write temp folders; keep them inside the project.
  TMPDIR: join(tmp, 'tmp'),
  INKWELL_TEST_DIR: tmp,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  // PGlite blocks the event loop while it opens a store, and a busy CI machine stalls
  // every process: event-loop load shedding would turn that into random 503s. Tests of
  // shedding itself set their own thresholds.
  SHED_MAX_EVENT_LOOP_DELAY_MS: process.env.SHED_MAX_EVENT_LOOP_DELAY_MS ?? '0',
}

function run(command, commandArgs, extraEnv = {}) {
  const result = spawnSync(command, commandArgs, {
    cwd: root,
    stdio: 'inherit',
    env: { ...env, ...extraEnv },
  })
  return result.status ?? 1
}

let cleanup = async () => {}
if (services) {
  // Databases are created straight on PostgreSQL even when the suite runs through pgbouncer.
  const appUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const adminUrl = process.env.DATABASE_DIRECT_URL ?? appUrl
  const database = `inkwell_test_${runId}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${database}"`)
  await admin.end()
  const withDb = (url) => {
    const u = new URL(url)
    u.pathname = `/${database}`
    return u.toString()
  }
  env.DATABASE_URL = withDb(appUrl)
  if (process.env.DATABASE_DIRECT_URL) env.DATABASE_DIRECT_URL = withDb(process.env.DATABASE_DIRECT_URL)
  env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  env.REDIS_KEY_PREFIX = `inkwell:test:${runId}:`
  console.log(`services run: database ${database}, redis prefix ${env.REDIS_KEY_PREFIX}`)
  cleanup = async () => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
    await client.end()
    const { Redis } = await import('ioredis')
    const redis = new Redis(env.REDIS_URL)
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${env.REDIS_KEY_PREFIX}*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
    await redis.quit()
  }
} else {
  for (const name of ['DATABASE_URL', 'DATABASE_DIRECT_URL', 'REDIS_URL']) delete env[name]
}

// One migrated database to start from: a template directory for PGlite (copied per
// test app, since creating a fresh PGlite store takes seconds), or the run's database.
const template = join(tmp, 'template')
const migrateStatus = run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate'], {
  DATA_DIR: template,
  LOG_LEVEL: 'warn',
})
if (migrateStatus !== 0) {
  await cleanup()
  process.exit(migrateStatus)
}
env.INKWELL_TEST_TEMPLATE = template

// *.services.test.ts need a real PostgreSQL/Redis (EXPLAIN plans, pool exhaustion, replicas): services runs only.
const allTests = [...findTests(join(root, 'src')), ...findTests(join(root, 'test'))]
const testFiles =
  files.length > 0 ? files : allTests.filter((f) => services || !f.endsWith('.services.test.ts'))
const status = run(process.execPath, [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  // A test that hangs fails after 15 minutes, and a file whose tests are done exits even
  // if something left a handle open, so CI can never hang on one.
  '--test-timeout=900000',
  '--test-force-exit',
  `--test-concurrency=${Math.max(2, availableParallelism())}`,
  ...testFiles,
])
await cleanup()
rmSync(tmp, { recursive: true, force: true })
process.exit(status)
