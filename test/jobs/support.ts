import assert from 'node:assert/strict'
import { after } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { freshDataDir } from '../helpers/app.ts'
import { startWorker, type WorkerProcess } from '../helpers/process.ts'

/** Polls until `probe` returns a value (not undefined/false), within a bounded deadline. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  limitMs = 30_000,
): Promise<T> {
  const until = performance.now() + limitMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (performance.now() > until) assert.fail(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/**
 * Real worker processes on the run's Redis, and the `jobs.noop` queue under `prefix`,
 * all stopped when the test file ends.
 */
export function workerHarness(prefix: string, env: Record<string, string | undefined>) {
  const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null })
  const noop = new Queue('jobs.noop', { connection: redis, prefix })
  const workers: WorkerProcess[] = []
  const stopAll = async (signal?: NodeJS.Signals) => {
    for (const w of workers.splice(0)) await w.stop(signal)
  }
  after(async () => {
    await stopAll('SIGKILL')
    await noop.close()
    await redis.quit()
  })
  return {
    noop,
    stopAll,
    queue: (name: string) => new Queue(name, { connection: redis, prefix }),
    async worker(extra: Record<string, string> = {}) {
      const w = await startWorker({ ...env, NODE_ENV: 'test', DATA_DIR: freshDataDir(), ...extra })
      workers.push(w)
      return w
    },
  }
}
