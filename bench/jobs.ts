// Job throughput: `npm run bench -- jobs [--jobs N]` with DATABASE_URL (admin) and REDIS_URL.
// For one and for two worker processes: jobs/s for a no-op job, and for the view flush
// (stories.flush-views) while views keep arriving in the pending set.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import pg from 'pg'
import { root, scratchDatabase } from './lib.ts'

async function startWorkers(n: number, env: Record<string, string>): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
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

async function drain(queue: Queue, total: number): Promise<number> {
  const started = performance.now()
  for (;;) {
    const c = await queue.getJobCounts('completed', 'failed')
    if ((c.completed ?? 0) + (c.failed ?? 0) >= total) return total / ((performance.now() - started) / 1000)
    await sleep(20)
  }
}

async function measure(
  redis: Redis,
  prefix: string,
  name: string,
  jobs: number,
  during?: () => Promise<void>,
) {
  const queue = new Queue(name, { connection: redis, prefix })
  await queue.obliterate({ force: true })
  const opts = { removeOnComplete: false, attempts: 1 }
  await queue.addBulk(Array.from({ length: jobs }, () => ({ name, data: {}, opts })))
  let running = true
  const load = (async () => {
    while (running && during) await during()
  })()
  const rate = await drain(queue, jobs)
  running = false
  await load
  await queue.close()
  return rate
}

export async function run(args: string[]) {
  const { values } = parseArgs({ args, options: { jobs: { type: 'string', default: '5000' } } })
  const jobs = Number(values.jobs)
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const db = await scratchDatabase(adminUrl, 'inkwell_bench_jobs')
  const keyPrefix = `inkwell:bench:${db.name}:`
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    DATA_DIR: mkdtempSync(join(root, '.tmp-bench-')),
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null })
  try {
    spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'seed', '--users', '20', '--stories', '1000'],
      {
        cwd: root,
        env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
        stdio: 'inherit',
      },
    )
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const ids = (await client.query('SELECT id FROM stories')).rows.map((r) => r.id as string)
    const pending = `${keyPrefix}{counters:story-views}:pending`
    // Views keep arriving while flushes run, so each flush writes a real batch.
    const addViews = async () => {
      const pipe = redis.pipeline()
      for (let i = 0; i < 100; i++) pipe.hincrby(pending, ids[Math.floor(Math.random() * ids.length)]!, 1)
      await pipe.exec()
      await sleep(1)
    }
    for (const n of [1, 2]) {
      const workers = await startWorkers(n, env)
      const prefix = `${keyPrefix}bull`
      const noop = await measure(redis, prefix, 'jobs.noop', jobs)
      const flush = await measure(redis, prefix, 'stories.flush-views', Math.ceil(jobs / 5), addViews)
      process.stdout.write(
        `workers=${n} jobs.noop ${noop.toFixed(0)} jobs/s; stories.flush-views ${flush.toFixed(0)} jobs/s\n`,
      )
      for (const w of workers) w.kill('SIGTERM')
      await Promise.all(workers.map((w) => (w.exitCode === null ? once(w, 'exit') : undefined)))
    }
    const views = await client.query('SELECT sum(view_count)::bigint AS n FROM stories')
    process.stdout.write(`views written: ${views.rows[0].n}\n`)
    await client.end()
  } finally {
    const keys = await redis.keys(`${keyPrefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
    await db.drop()
  }
}
