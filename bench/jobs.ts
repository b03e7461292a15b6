// Job throughput: `npm run bench -- jobs [--jobs N] [--flushes N] [--repeat N]` with
// DATABASE_URL (admin) and REDIS_URL.
// For one and for two worker processes: jobs/s for a no-op job, and for the view flush
// (stories.flush-views) while views keep arriving in the pending set.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import pg from 'pg'
import { entryArgs, medianBy, root, scratchDatabase } from './lib.ts'

async function startWorkers(n: number, env: Record<string, string>): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const child = spawn(process.execPath, entryArgs('src/worker.ts'), {
        cwd: root,
        env: { ...process.env, ...env, WORKER_PORT: '0', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      let out = ''
      child.stdout!.on('data', (d) => {
        if (out.length < 100_000) out += d
      })
      while (!out.includes('monitoring on')) {
        if (child.exitCode !== null) throw new Error(`worker exited:\n${out}`)
        await sleep(50)
      }
      return child
    }),
  )
}

async function drain(queue: Queue, total: number): Promise<void> {
  for (;;) {
    const c = await queue.getJobCounts('completed', 'failed')
    if ((c.completed ?? 0) + (c.failed ?? 0) >= total) return
    await sleep(20)
  }
}

/** Seconds to run `jobs` jobs of `name`, from an empty queue. */
async function measure(
  redis: Redis,
  prefix: string,
  name: string,
  jobs: number,
  during?: () => Promise<void>,
): Promise<number> {
  const queue = new Queue(name, { connection: redis, prefix })
  await queue.obliterate({ force: true })
  const opts = { removeOnComplete: false, attempts: 1 }
  let running = true
  const load = (async () => {
    while (running && during) await during()
  })()
  const started = performance.now()
  await queue.addBulk(Array.from({ length: jobs }, () => ({ name, data: {}, opts })))
  await drain(queue, jobs)
  const seconds = (performance.now() - started) / 1000
  running = false
  await load
  await queue.close()
  return seconds
}

export async function run(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      jobs: { type: 'string', default: '20000' },
      flushes: { type: 'string', default: '300' },
      repeat: { type: 'string', default: '3' },
    },
  })
  const [jobs, flushes, repeat] = [Number(values.jobs), Number(values.flushes), Number(values.repeat)]
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const db = await scratchDatabase(adminUrl, 'inkwell_bench_jobs')
  const keyPrefix = `inkwell:bench:${db.name}:`
  const dataDir = mkdtempSync(join(root, '.tmp-bench-'))
  const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: keyPrefix, DATA_DIR: dataDir }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null })
  try {
    const seeded = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'seed', '--users', '20', '--stories', '1000'],
      {
        cwd: root,
        env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
        stdio: 'inherit',
      },
    )
    if (seeded.status !== 0) throw new Error(`seeding failed (exit ${seeded.status})`)
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const ids = (await client.query('SELECT id FROM stories')).rows.map((r) => r.id as string)
    const written = async () => {
      const { rows } = await client.query(`SELECT (SELECT count(*) FROM counter_batches)::int AS batches,
        (SELECT sum(view_count) FROM stories)::bigint AS views`)
      return { batches: Number(rows[0].batches), views: Number(rows[0].views) }
    }
    const pending = `${keyPrefix}{counters:story-views}:pending`
    // Views keep arriving while flushes run, so each flush writes a real batch.
    const addViews = async () => {
      const pipe = redis.pipeline()
      for (let i = 0; i < 100; i++) pipe.hincrby(pending, ids[Math.floor(Math.random() * ids.length)]!, 1)
      await pipe.exec()
      await sleep(1)
    }
    process.stdout.write(
      `median of ${repeat} runs: ${jobs} jobs.noop; ${flushes} stories.flush-views over 1000 stories\n`,
    )
    for (const n of [1, 2]) {
      const workers = await startWorkers(n, env)
      const prefix = `${keyPrefix}bull`
      const noop: number[] = []
      const flush: Array<{ jobs: number; batches: number; views: number }> = []
      for (let i = 0; i < repeat; i++) noop.push(jobs / (await measure(redis, prefix, 'jobs.noop', jobs)))
      for (let i = 0; i < repeat; i++) {
        const before = await written()
        const seconds = await measure(redis, prefix, 'stories.flush-views', flushes, addViews)
        const after = await written()
        flush.push({
          jobs: flushes / seconds,
          batches: (after.batches - before.batches) / seconds,
          views: (after.views - before.views) / seconds,
        })
      }
      // Two workers may run two flushes at once: the second finds the first's batch claimed
      // and writes nothing, so batches/s and views/s are the figures that count.
      const mid = medianBy(flush, (f) => f.jobs)
      const pick = (key: 'jobs' | 'batches' | 'views') => mid[key].toFixed(0)
      process.stdout.write(
        `workers=${n} jobs.noop ${medianBy(noop, (v) => v).toFixed(0)} jobs/s; stories.flush-views ${pick('jobs')} jobs/s, ` +
          `${pick('batches')} batches/s, ${pick('views')} views/s\n`,
      )
      for (const w of workers) w.kill('SIGTERM')
      await Promise.all(workers.map((w) => (w.exitCode === null ? once(w, 'exit') : undefined)))
    }
    await client.end()
  } finally {
    const keys = await redis.keys(`${keyPrefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
    await db.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
