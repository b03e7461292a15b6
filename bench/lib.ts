// Shared plumbing of the load scenarios: scratch databases, server processes, autocannon.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import pg from 'pg'

export const root = resolve(import.meta.dirname, '..')

export interface LoadResult {
  requests: { average: number }
  latency: { average: number; p50: number; p99: number }
  non2xx: number
  errors: number
}

type Autocannon = (options: {
  url: string
  connections: number
  duration: number
  headers?: Record<string, string>
}) => Promise<LoadResult>
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

/** Loads `url` for `seconds` from this process; only loopback targets are allowed. */
export async function load(
  url: string,
  options: { connections: number; seconds: number; headers?: Record<string, string> },
) {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url))
    throw new Error(`refusing to load a non-loopback target: ${url}`)
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    headers: options.headers,
  })
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx responses`)
  }
  return result
}

/** A fresh database on the server of `adminUrl`, dropped by `drop()`. */
export async function scratchDatabase(adminUrl: string, prefix: string) {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${name}"`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      await client.end()
    },
  }
}

export interface ServerProcess {
  baseUrl: string
  stop(): Promise<void>
}

/** Starts a server script (node, not npm) and waits for its "listening at" line. */
export async function startProcess(script: string, env: Record<string, string>): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  // Keep the start-up output, then only the last chunks (a server at info level logs every
  // request), shown if the server dies while it is being measured.
  const tail: Buffer[] = []
  const onData = (d: Buffer) => {
    if (output.length < 1_000_000) output += d
    tail.push(d)
    if (tail.length > 4) tail.shift()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const baseUrl = await new Promise<string>((done, fail) => {
    const timer = setInterval(() => {
      const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(output)
      if (match) {
        clearInterval(timer)
        done(match[1]!)
      }
    }, 50)
    child.once('exit', (code) => {
      clearInterval(timer)
      fail(new Error(`${script} exited with ${code}:\n${output}`))
    })
  })
  let stopping = false
  child.once('exit', (code, signal) => {
    if (!stopping)
      process.stderr.write(`${script} exited (${code ?? signal}) while running:\n${Buffer.concat(tail)}\n`)
  })
  return {
    baseUrl,
    async stop() {
      stopping = true
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** The `--database-url` option of the benches that need PostgreSQL. */
export const databaseUrlOption = {
  type: 'string',
  default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
} as const

/** The middle item of `items` by `value` (the upper one of an even count). */
export function medianBy<T>(items: readonly T[], value: (item: T) => number): T {
  return [...items].sort((a, b) => value(a) - value(b))[Math.floor(items.length / 2)]!
}

export function ratio(a: number, b: number): string {
  return `${((100 * a) / b).toFixed(0)}%`
}

export function row(name: string, r: LoadResult): string {
  return `${name.padEnd(44)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms`
}
