import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import pg from 'pg'
import { loadOrCreateDevKey, signDevToken } from '../../../src/platform/auth/dev-idp.ts'
import { type ApiProcess, startApi } from '../support/api-process.ts'

const run = promisify(execFile)
const root = join(import.meta.dirname, '..', '..', '..')

/** API settings of the drill; the HAProxy timings live in deploy/haproxy/haproxy.cfg. */
export const DRILL = {
  REQUEST_TIMEOUT_MS: 2000,
  SHUTDOWN_DRAIN_MS: 3000,
  SHUTDOWN_TIMEOUT_MS: 5000,
  READY_CACHE_MS: 1000,
  READY_CHECK_TIMEOUT_MS: 1000,
}

export interface Instance {
  name: 'api1' | 'api2'
  port: number
  pgbouncerPort: number
  api?: ApiProcess
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

export async function service(script: 'pgbouncer' | 'haproxy', args: string[], env: NodeJS.ProcessEnv) {
  await run('bash', [join(root, 'scripts', 'services', `${script}.sh`), ...args], { env, cwd: root })
}

/**
 * Two API instances, each reaching PostgreSQL through its own pgbouncer (so one
 * can lose its database alone), behind HAProxy running deploy/haproxy/haproxy.cfg.
 * A fresh database is created for the drill and dropped by `close`.
 */
export async function startCluster(workDir: string) {
  const cleanups: Array<() => Promise<unknown>> = []
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
  }
  try {
    return await assemble(workDir, cleanups, close)
  } catch (err) {
    await close()
    throw err
  }
}

async function dropRedisKeys(prefix: string) {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    if (keys.length > 0) await redis.del(...keys)
    cursor = next
  } while (cursor !== '0')
  await redis.quit()
}

type Cleanups = Array<() => Promise<unknown>>

/** A fresh, migrated database for the drill, dropped at the end. */
async function createDatabase(adminUrl: string, name: string, dataDir: string, cleanups: Cleanups) {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${name}"`)
  await admin.end()
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await client.end()
  })
  const direct = new URL(adminUrl)
  direct.pathname = `/${name}`
  await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: direct.toString(), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
  })
}

interface InstanceSettings {
  database: string
  dataDir: string
  secretKey: string
  redisPrefix: string
}

function instanceEnv(i: Instance, s: InstanceSettings): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(i.port),
    LOG_LEVEL: 'info',
    // Both instances trust the same development identity provider key, kept here.
    DATA_DIR: s.dataDir,
    SECRET_KEY: s.secretKey,
    AUTH_DEV: 'true',
    SEED_DEMO: 'false',
    DATABASE_URL: `postgres://postgres@127.0.0.1:${i.pgbouncerPort}/${s.database}`,
    // pgbouncer 1.18 in transaction mode keeps neither named statements nor session settings.
    DB_PREPARED_STATEMENTS: 'false',
    DB_STARTUP_PARAMETERS: 'false',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: s.redisPrefix,
    TRUST_PROXY: '127.0.0.1',
    // All the drill's traffic is one client IP and one user: limits that never bind
    // (the limiter still runs, on Redis, for every request).
    RATE_LIMIT_IP_MAX: '1000000000',
    RATE_LIMIT_READ_MAX: '1000000000',
    RATE_LIMIT_WRITE_MAX: '1000000000',
    RATE_LIMIT_EXPENSIVE_MAX: '1000000000',
    ...Object.fromEntries(Object.entries(DRILL).map(([k, v]) => [k, String(v)])),
  }
}

/** HAProxy's view of the servers, read from its stats page. */
function rotation(adminPort: number) {
  /** UP, DOWN, "UP 1/2" (failing checks), "DOWN 1/2" (passing again)... */
  const status = async (name: string): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/stats;csv`)
    const [header, ...rows] = (await res.text()).split('\n')
    const fields = header!.replace(/^# /, '').split(',')
    const row = rows.map((r) => r.split(',')).find((r) => r[0] === 'api' && r[1] === name)
    return row?.[fields.indexOf('status')] ?? 'unknown'
  }
  /** Polls until the server is in (true) or out of (false) rotation; returns ms waited. */
  const waitInRotation = async (name: string, wanted: boolean, limitMs: number): Promise<number> => {
    const started = performance.now()
    for (;;) {
      if ((await status(name)).startsWith('UP') === wanted) return performance.now() - started
      if (performance.now() - started > limitMs)
        throw new Error(`${name} still ${wanted ? 'out of' : 'in'} rotation after ${limitMs} ms`)
      await sleep(50)
    }
  }
  return { status, waitInRotation }
}

/** HAProxy running deploy/haproxy/haproxy.cfg itself, addresses from the environment. */
async function startHaproxy(
  env: NodeJS.ProcessEnv,
  ports: { lbPort: number; adminPort: number },
  instances: Instance[],
  cleanups: Cleanups,
) {
  cleanups.push(() => service('haproxy', ['stop', 'lb'], env))
  await service('haproxy', ['start', 'lb', join(root, 'deploy', 'haproxy', 'haproxy.cfg')], {
    ...env,
    INKWELL_LB_BIND: `127.0.0.1:${ports.lbPort}`,
    INKWELL_LB_ADMIN: `127.0.0.1:${ports.adminPort}`,
    INKWELL_API_1: `127.0.0.1:${instances[0]!.port}`,
    INKWELL_API_2: `127.0.0.1:${instances[1]!.port}`,
  })
}

async function assemble(workDir: string, cleanups: Cleanups, close: () => Promise<void>) {
  const runId = randomBytes(4).toString('hex')
  // pgbouncer runs as the postgres user, who may not traverse the checkout (e.g. under
  // /root): its files live under the system temp dir instead.
  const servicesDir = mkdtempSync(join('/tmp', 'inkwell-drill-'))
  chmodSync(servicesDir, 0o755)
  if (!process.env.KEEP_DRILL_LOGS)
    cleanups.push(async () => rmSync(servicesDir, { recursive: true, force: true }))
  else cleanups.push(async () => console.log(`drill: service logs kept in ${servicesDir}`))
  const settings: InstanceSettings = {
    database: `inkwell_lb_${runId}`,
    dataDir: join(workDir, 'data'),
    secretKey: randomBytes(32).toString('hex'),
    redisPrefix: `inkwell:lb:${runId}:`,
  }
  mkdirSync(settings.dataDir, { recursive: true })
  const env: NodeJS.ProcessEnv = { ...process.env, SERVICES_DIR: servicesDir }
  const [lbPort, adminPort] = [await freePort(), await freePort()]
  const instances: Instance[] = []
  for (const name of ['api1', 'api2'] as const)
    instances.push({ name, port: await freePort(), pgbouncerPort: await freePort() })

  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  await createDatabase(adminUrl, settings.database, settings.dataDir, cleanups)
  for (const i of instances) {
    cleanups.push(() => service('pgbouncer', ['stop', i.name], env))
    await service('pgbouncer', ['start', i.name, String(i.pgbouncerPort)], env)
  }
  cleanups.push(() => dropRedisKeys(settings.redisPrefix))
  const key = await loadOrCreateDevKey(settings.dataDir)
  const token = await signDevToken(key, {
    subject: `lb-${runId}`,
    roles: [],
    ttlSeconds: 3600,
    rolesClaim: 'roles',
  })
  const startInstance = async (i: Instance) => {
    i.api = await startApi(instanceEnv(i, settings))
  }
  cleanups.push(async () => {
    for (const i of instances) i.api?.signal('SIGKILL')
  })
  await Promise.all(instances.map(startInstance))

  await startHaproxy(env, { lbPort, adminPort }, instances, cleanups)

  return {
    lbUrl: `http://127.0.0.1:${lbPort}`,
    instances,
    token,
    ...rotation(adminPort),
    startInstance,
    pgbouncer: (action: 'stop' | 'pause' | 'resume', i: Instance) =>
      service('pgbouncer', [action, i.name], env),
    restartPgbouncer: (i: Instance) => service('pgbouncer', ['start', i.name, String(i.pgbouncerPort)], env),
    close,
  }
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>
