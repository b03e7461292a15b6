// Shared plumbing of the load scenarios: scratch databases, server processes, autocannon.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'

export const root = resolve(import.meta.dirname, '..')

export interface LoadResult {
  requests: { average: number; total: number }
  /** Seconds the load ran, as autocannon measured them (it rounds a duration up to whole seconds). */
  duration: number
  latency: { average: number; p50: number; p99: number }
  non2xx: number
  errors: number
  /**
   * CPU time of the server's main thread per request, in µs, when the server was given:
   * steadier than req/s on a small, noisy machine, and free of the load generator's share.
   */
  cpuUsPerRequest?: number
}

type Autocannon = (options: {
  url: string
  connections: number
  duration?: number
  amount?: number
  timeout?: number
  headers?: Record<string, string>
}) => Promise<LoadResult>
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

/**
 * Loads `url` for `seconds` (or for `amount` requests) from this process; only loopback
 * targets are allowed. With `server`, the result also has the CPU its main thread spent
 * per request.
 */
export async function load(
  url: string,
  options: {
    connections: number
    seconds?: number
    amount?: number
    /** Per request; autocannon's default is 10 s. */
    timeoutSeconds?: number
    headers?: Record<string, string> | undefined
    server?: ServerProcess | undefined
  },
): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url))
    throw new Error(`refusing to load a non-loopback target: ${url}`)
  const cpuBefore = options.server?.mainThreadCpuSeconds()
  const result = await autocannon({
    url,
    connections: options.connections,
    ...(options.amount === undefined ? { duration: options.seconds } : { amount: options.amount }),
    ...(options.timeoutSeconds === undefined ? {} : { timeout: options.timeoutSeconds }),
    headers: options.headers,
  })
  const cpuAfter = options.server?.mainThreadCpuSeconds()
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx responses`)
  }
  if (cpuBefore !== undefined && cpuAfter !== undefined && result.requests.total > 0)
    result.cpuUsPerRequest = ((cpuAfter - cpuBefore) * 1e6) / result.requests.total
  return result
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100
  } catch {
    return 100
  }
})()

/** User + system CPU seconds of a process's main thread (Linux /proc); undefined elsewhere. */
function mainThreadCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces), from field 3 on.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

/**
 * Requests a server gets before it is measured. V8 optimizes a function after a number
 * of calls, not of seconds, and Inkwell's request path is several times the code of a
 * bare route: on a machine a fifth as fast as usual, a 2-second warm-up (about 5,000
 * requests there) measured Inkwell still climbing (its throughput rose by half over the
 * next 30,000 requests) while the bare route had settled (docs/database.md, run 14).
 * 40,000 requests is where both had settled there; on a fast machine it is 3 s.
 */
export const WARM_REQUESTS = 40_000

/** The `--warm` option (requests before measuring) of the timed benches. */
export const warmOption = { type: 'string', default: String(WARM_REQUESTS) } as const

/** Sends `requests` requests to `url` and discards the result: JIT tier-up before a measured round. */
export async function warmUp(
  url: string,
  options: { connections: number; requests: number; headers?: Record<string, string> | undefined },
): Promise<void> {
  await load(url, {
    connections: options.connections,
    amount: options.requests,
    headers: options.headers,
    timeoutSeconds: 60,
  })
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
  pid: number
  mainThreadCpuSeconds(): number | undefined
  stop(): Promise<void>
}

/**
 * Starts a server script (node, not npm) and waits for its "listening at" line. Its
 * output goes to a file, not a pipe to this process: this process is also the load
 * generator, and reading a server's access log (one line per request) would take
 * load-generator CPU from the servers that log, and none from those that do not.
 * `wrapper` runs node under another program (valgrind), which must exec it in place.
 */
export async function startProcess(
  script: string,
  env: Record<string, string>,
  wrapper: string[] = [],
): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-bench-log-'))
  const logFile = join(dir, 'server.log')
  const fd = openSync(logFile, 'w')
  const [command = process.execPath, ...args] = [...wrapper, process.execPath, ...entryArgs(script)]
  const child: ChildProcess = spawn(command, args, {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  const head = () => readPart(logFile, 0, 64 * 1024)
  const tail = () => {
    const size = statSync(logFile, { throwIfNoEntry: false })?.size ?? 0
    return readPart(logFile, Math.max(0, size - 4096), 4096)
  }
  const removeLog = () => rmSync(dir, { recursive: true, force: true })
  const baseUrl = await new Promise<string>((done, fail) => {
    const timer = setInterval(() => {
      const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(head())
      if (match) {
        clearInterval(timer)
        done(match[1]!)
      }
    }, 50)
    child.once('exit', (code) => {
      clearInterval(timer)
      const output = head()
      removeLog()
      fail(new Error(`${script} exited with ${code}:\n${output}`))
    })
  })
  let stopping = false
  child.once('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${script} exited (${code ?? signal}) while running:\n${tail()}\n`)
      removeLog()
    }
  })
  return {
    baseUrl,
    pid: child.pid!,
    mainThreadCpuSeconds: () => mainThreadCpuSeconds(child.pid),
    async stop() {
      stopping = true
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await once(child, 'exit')
      }
      removeLog()
    },
  }
}

let built = false

/**
 * How a script is started: Inkwell's own entry points (`src/…`) from the compiled build,
 * as production runs them (docs/operations.md), built once per bench run; the bench's
 * own servers through tsx.
 */
export function entryArgs(script: string): string[] {
  if (!script.startsWith('src/')) return ['--import', 'tsx', script]
  if (!built) {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' })
    built = true
  }
  return [join('dist', script.slice('src/'.length).replace(/\.ts$/, '.js'))]
}

/** Up to `length` bytes of `file` from `offset`, as text. */
function readPart(file: string, offset: number, length: number): string {
  const fd = openSync(file, 'r')
  try {
    const buffer = Buffer.alloc(length)
    return buffer.subarray(0, readSync(fd, buffer, 0, length, offset)).toString()
  } finally {
    closeSync(fd)
  }
}

/** The `--database-url` option of the benches that need PostgreSQL. */
export const databaseUrlOption = {
  type: 'string',
  default: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
} as const

/** The `--redis-url` option of the benches that need Redis. */
export const redisUrlOption = {
  type: 'string',
  default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
} as const

/** Deletes every Redis key under `prefix` (a bench's own, unique per run). */
export async function dropKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl)
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    if ((batch as string[]).length > 0) await redis.del(...(batch as string[]))
  }
  await redis.quit()
}

/** The middle item of `items` by `value` (the upper one of an even count). */
export function medianBy<T>(items: readonly T[], value: (item: T) => number): T {
  return [...items].sort((a, b) => value(a) - value(b))[Math.floor(items.length / 2)]!
}

/** The round with the median rate. */
export const medianRound = (rounds: readonly LoadResult[]) => medianBy(rounds, (r) => r.requests.average)

/** A scenario's median round, followed by every round's rate. */
export function roundsRow(name: string, rounds: readonly LoadResult[]): string {
  return `${row(name, medianRound(rounds))}   rounds ${rounds.map((r) => r.requests.average.toFixed(0)).join(' / ')}`
}

/**
 * A ratio taken within each round (its scenarios ran seconds apart, on the same machine
 * state) and its median over the rounds, with every round's value: the machine's speed
 * drifts by a third within minutes, which a ratio of two medians taken from different
 * rounds would carry into the result. Compares rates unless `of` picks another figure
 * (CPU per request).
 */
export function perRound(
  x: readonly LoadResult[],
  y: readonly LoadResult[],
  f: (p: number, q: number) => number,
  of: (r: LoadResult) => number = (r) => r.requests.average,
): string {
  const values = x.map((r, i) => f(of(r), of(y[i]!)))
  const mid = [...values].sort((p, q) => p - q)[Math.floor(values.length / 2)]!
  return `${mid.toFixed(1).padStart(5)}%   rounds ${values.map((v) => v.toFixed(0)).join(' / ')}`
}

export interface LoadTarget {
  url: string
  headers?: Record<string, string> | undefined
  server?: ServerProcess | undefined
}

/**
 * One round of several targets, measured in `slices` turns of `seconds / slices` each,
 * the order reversed every turn (A B, B A, A B, …): the machine's speed drifts by a
 * quarter within a minute, and one target measured 5 s after the other carried that
 * drift into their ratio (a round's ratio moved by up to 25 points between rounds).
 * Interleaved, both see the same moments. Per target: the total rate and CPU per
 * request; p50 the median of the turns', p99 the worst turn's.
 */
export async function loadInterleaved(
  targets: readonly LoadTarget[],
  options: { connections: number; seconds: number; slices: number },
): Promise<LoadResult[]> {
  const turns: LoadResult[][] = targets.map(() => [])
  // autocannon runs whole seconds (a 0.4-s turn lasts 1 s): rates below are per second run.
  const sliceSeconds = options.seconds / options.slices
  for (let turn = 0; turn < options.slices; turn++) {
    const order = targets.map((_, i) => i)
    if (turn % 2 === 1) order.reverse()
    for (const i of order) {
      const { url, headers, server } = targets[i]!
      turns[i]!.push(
        await load(url, { connections: options.connections, seconds: sliceSeconds, headers, server }),
      )
    }
  }
  return turns.map((results) => {
    const total = results.reduce((sum, r) => sum + r.requests.total, 0)
    const duration = results.reduce((sum, r) => sum + r.duration, 0)
    // CPU µs summed over the turns, when every turn measured it.
    const cpuUs = results.every((r) => r.cpuUsPerRequest !== undefined)
      ? results.reduce((sum, r) => sum + r.cpuUsPerRequest! * r.requests.total, 0)
      : undefined
    return {
      requests: { average: total / duration, total },
      duration,
      latency: {
        average: results.reduce((sum, r) => sum + r.latency.average * r.requests.total, 0) / total,
        p50: medianBy(results, (r) => r.latency.p50).latency.p50,
        p99: Math.max(...results.map((r) => r.latency.p99)),
      },
      non2xx: 0,
      errors: 0,
      ...(cpuUs === undefined ? {} : { cpuUsPerRequest: cpuUs / total }),
    }
  })
}

/** CPU per request, for `perRound`'s `of` (NaN where the platform gave none). */
export const cpuOf = (r: LoadResult) => r.cpuUsPerRequest ?? Number.NaN

export const share = (p: number, q: number) => (100 * p) / q

export function ratio(a: number, b: number): string {
  return `${((100 * a) / b).toFixed(0)}%`
}

export function row(name: string, r: LoadResult): string {
  const cpu =
    r.cpuUsPerRequest === undefined ? '' : `   cpu ${r.cpuUsPerRequest.toFixed(1).padStart(5)} µs/req`
  return `${name.padEnd(44)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms${cpu}`
}
