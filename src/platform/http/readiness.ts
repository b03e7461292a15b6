import { existsSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { Cache } from '../cache/cache.ts'
import type { Database } from '../db/database.ts'
import { pendingMigrations } from '../db/migrate.ts'
import { withStatementSignal } from '../db/statement-signal.ts'

export type CheckStatus = 'ok' | 'degraded' | 'failed'

export interface CheckResult {
  status: CheckStatus
  latencyMs: number
  error?: string
}

export type CheckResults = Record<string, CheckResult>

interface Check {
  name: string
  /** A failing check that is not critical reports `degraded` and leaves the instance ready. */
  critical: boolean
  run(signal: AbortSignal): Promise<void>
}

export interface ReadinessDeps {
  database: Database
  cache: Cache
  dataDir: string
  tempDir: string
  minFreeDiskBytes: number
}

const MiB = 1024 * 1024

/** statfs of the nearest existing ancestor: DATA_DIR need not exist yet to have a filesystem. */
async function checkFreeDisk(path: string, minFreeBytes: number): Promise<void> {
  let dir = resolve(path)
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
  const stats = await statfs(dir)
  const free = stats.bavail * stats.bsize
  if (free < minFreeBytes)
    throw new Error(
      `${Math.floor(free / MiB)} MiB free on ${dir}, below ${Math.ceil(minFreeBytes / MiB)} MiB`,
    )
}

/**
 * Migrations gate a new release until the deploy step has migrated the database;
 * applied migrations are never unapplied under a running process, so once they
 * pass, later probes skip the four round trips.
 */
function migrationsApplied(database: Database): Check['run'] {
  let applied = false
  return (signal) =>
    withStatementSignal(signal, async () => {
      if (applied) return
      const pending = await pendingMigrations(database)
      if (pending.length > 0) throw new Error(`not applied: ${pending.join(', ')}`)
      applied = true
    })
}

export function readinessChecks(deps: ReadinessDeps): Check[] {
  const checks: Check[] = [
    // Each statement runs under the check's own signal, so a timed-out check cancels it.
    {
      name: 'database',
      critical: true,
      run: (signal) => withStatementSignal(signal, () => deps.database.ping()),
    },
    { name: 'migrations', critical: true, run: migrationsApplied(deps.database) },
    // The cache is an accelerator: without it requests are slower, not wrong.
    { name: 'cache', critical: false, run: () => deps.cache.ping() },
  ]
  if (deps.minFreeDiskBytes > 0) {
    checks.push(
      { name: 'disk_data', critical: true, run: () => checkFreeDisk(deps.dataDir, deps.minFreeDiskBytes) },
      { name: 'disk_tmp', critical: true, run: () => checkFreeDisk(deps.tempDir, deps.minFreeDiskBytes) },
    )
  }
  return checks
}

async function runCheck(check: Check, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now()
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)
  const timedOut = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })
  })
  try {
    await Promise.race([check.run(controller.signal), timedOut])
    return { status: 'ok', latencyMs: Math.round(performance.now() - started) }
  } catch (err) {
    return {
      status: check.critical ? 'failed' : 'degraded',
      latencyMs: Math.round(performance.now() - started),
      error: String((err as Error).message ?? err).slice(0, 200),
    }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Runs every check concurrently, each under its own timeout. Results are reused
 * for `cacheMs` and concurrent callers share one run, so however often probes
 * arrive the database sees at most one readiness query per `cacheMs`.
 */
export function createReadiness(checks: Check[], options: { timeoutMs: number; cacheMs: number }) {
  let last: { at: number; results: CheckResults } | undefined
  let running: Promise<CheckResults> | undefined
  const runAll = async (): Promise<CheckResults> => {
    const results = await Promise.all(checks.map((check) => runCheck(check, options.timeoutMs)))
    return Object.fromEntries(checks.map((check, i) => [check.name, results[i]!]))
  }
  return function evaluate(): Promise<CheckResults> {
    if (last && performance.now() - last.at < options.cacheMs) return Promise.resolve(last.results)
    running ??= runAll()
      .then((results) => {
        last = { at: performance.now(), results }
        return results
      })
      .finally(() => {
        running = undefined
      })
    return running
  }
}
