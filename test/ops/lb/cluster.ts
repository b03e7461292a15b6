import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
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

async function assemble(
  workDir: string,
  cleanups: Array<() => Promise<unknown>>,
  close: () => Promise<void>,
) {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const runId = randomBytes(4).toString('hex')
  const database = `inkwell_lb_${runId}`
  const servicesDir = join(workDir, 'services')
  const sharedDataDir = join(workDir, 'data')
  mkdirSync(servicesDir, { recursive: true, mode: 0o755 })
  mkdirSync(sharedDataDir, { recursive: true })
  const env: NodeJS.ProcessEnv = { ...process.env, SERVICES_DIR: servicesDir }
  const [lbPort, adminPort] = [await freePort(), await freePort()]
  const instances: Instance[] = [
    { name: 'api1', port: await freePort(), pgbouncerPort: await freePort() },
    { name: 'api2', port: await freePort(), pgbouncerPort: await freePort() },
  ]

  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${database}"`)
  await admin.end()
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
    await client.end()
  })
  const direct = new URL(adminUrl)
  direct.pathname = `/${database}`
  await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: direct.toString(), DATA_DIR: sharedDataDir, LOG_LEVEL: 'warn' },
  })
  for (const i of instances) {
    cleanups.push(() => service('pgbouncer', ['stop', i.name], env))
    await service('pgbouncer', ['start', i.name, String(i.pgbouncerPort)], env)
  }

  // Both instances trust the same development identity provider key.
  const key = await loadOrCreateDevKey(sharedDataDir)
  const token = await signDevToken(key, {
    subject: `lb-${runId}`,
    roles: [],
    ttlSeconds: 3600,
    rolesClaim: 'roles',
  })
  const secretKey = randomBytes(32).toString('hex')
  const redisPrefix = `inkwell:lb:${runId}:`
  cleanups.push(() => dropRedisKeys(redisPrefix))
  const instanceEnv = (i: Instance): NodeJS.ProcessEnv => ({
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(i.port),
    LOG_LEVEL: 'info',
    DATA_DIR: sharedDataDir,
    SECRET_KEY: secretKey,
    AUTH_DEV: 'true',
    SEED_DEMO: 'false',
    DATABASE_URL: `postgres://postgres@127.0.0.1:${i.pgbouncerPort}/${database}`,
    // pgbouncer 1.18 in transaction mode keeps neither named statements nor session settings.
    DB_PREPARED_STATEMENTS: 'false',
    DB_STARTUP_PARAMETERS: 'false',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: redisPrefix,
    TRUST_PROXY: '127.0.0.1',
    ...Object.fromEntries(Object.entries(DRILL).map(([k, v]) => [k, String(v)])),
  })
  const startInstance = async (i: Instance) => {
    i.api = await startApi(instanceEnv(i))
  }
  cleanups.push(async () => {
    for (const i of instances) i.api?.signal('SIGKILL')
  })
  await Promise.all(instances.map(startInstance))

  const lbEnv = {
    ...env,
    INKWELL_LB_BIND: `127.0.0.1:${lbPort}`,
    INKWELL_LB_ADMIN: `127.0.0.1:${adminPort}`,
    INKWELL_API_1: `127.0.0.1:${instances[0]!.port}`,
    INKWELL_API_2: `127.0.0.1:${instances[1]!.port}`,
  }
  cleanups.push(() => service('haproxy', ['stop', 'lb'], env))
  await service('haproxy', ['start', 'lb', join(root, 'deploy', 'haproxy', 'haproxy.cfg')], lbEnv)

  const cluster = {
    lbUrl: `http://127.0.0.1:${lbPort}`,
    instances,
    token,
    servicesDir,
    /** HAProxy's view of a server: UP, DOWN, "UP 1/2" (failing), "DOWN 1/2" (recovering)... */
    async status(name: string): Promise<string> {
      const res = await fetch(`http://127.0.0.1:${adminPort}/stats;csv`)
      const [header, ...rows] = (await res.text()).split('\n')
      const fields = header!.replace(/^# /, '').split(',')
      const row = rows.map((r) => r.split(',')).find((r) => r[0] === 'api' && r[1] === name)
      return row?.[fields.indexOf('status')] ?? 'unknown'
    },
    /** Polls until HAProxy has the server in (true) or out of (false) rotation; returns ms waited. */
    async waitInRotation(name: string, wanted: boolean, limitMs: number): Promise<number> {
      const started = performance.now()
      for (;;) {
        const inRotation = (await cluster.status(name)).startsWith('UP')
        if (inRotation === wanted) return performance.now() - started
        if (performance.now() - started > limitMs)
          throw new Error(`${name} still ${wanted ? 'out of' : 'in'} rotation after ${limitMs} ms`)
        await sleep(50)
      }
    },
    startInstance,
    pgbouncer: (action: 'stop' | 'pause' | 'resume', i: Instance) =>
      service('pgbouncer', [action, i.name], env),
    restartPgbouncer: (i: Instance) => service('pgbouncer', ['start', i.name, String(i.pgbouncerPort)], env),
    close,
  }
  return cluster
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>
