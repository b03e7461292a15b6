import { parseArgs } from 'node:util'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { loadConfigOrExit } from '../config/index.ts'
import { queuePrefix, queueRedisUrl } from '../platform/jobs/index.ts'

const USAGE = `usage: inkwell jobs <list|retry|discard> [options]
  jobs list [--queue Q] [--limit N]   job counts per queue, then failed jobs (newest first)
  jobs retry --queue Q (--id ID... | --all)     move failed jobs back to waiting
  jobs discard --queue Q (--id ID... | --all)   delete failed jobs
`

/** Queues are found in Redis (each has a meta key), so no job code has to be loaded. */
async function queueNames(redis: Redis, prefix: string): Promise<string[]> {
  const names = new Set<string>()
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*:meta`, 'COUNT', 1000)
    for (const key of keys) names.add(key.slice(prefix.length + 1, -':meta'.length))
    cursor = next
  } while (cursor !== '0')
  return [...names].sort()
}

async function list(queues: Queue[], limit: number, out: (line: string) => void) {
  for (const queue of queues) {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')
    out(
      `${queue.name}: waiting=${c.waiting} active=${c.active} delayed=${c.delayed} failed=${c.failed} completed=${c.completed}`,
    )
  }
  for (const queue of queues) {
    for (const job of await queue.getFailed(0, limit - 1)) {
      const when = job.finishedOn ? new Date(job.finishedOn).toISOString() : '-'
      out(
        `failed ${queue.name} ${job.id} tries=${job.attemptsMade} at=${when} reason=${JSON.stringify(job.failedReason ?? '')}`,
      )
    }
  }
}

async function act(queue: Queue, action: 'retry' | 'discard', ids: string[] | 'all'): Promise<number> {
  if (ids === 'all') {
    if (action === 'retry') {
      const count = await queue.getJobCountByTypes('failed')
      await queue.retryJobs({ state: 'failed', count: 1000 })
      return count
    }
    return (await queue.clean(0, 0, 'failed')).length
  }
  let done = 0
  for (const id of ids) {
    const job = await queue.getJob(id)
    if (!job || !(await job.isFailed())) throw new Error(`no failed job ${id} in ${queue.name}`)
    if (action === 'retry') await job.retry('failed')
    else await job.remove()
    done++
  }
  return done
}

export async function runJobsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  const { values } = parseArgs({
    args: rest,
    options: {
      queue: { type: 'string' },
      id: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
      limit: { type: 'string', default: '50' },
    },
  })
  const { config, secrets } = await loadConfigOrExit()
  secrets.close()
  const url = queueRedisUrl(config)
  if (!url) {
    process.stderr.write(
      'jobs: no QUEUE_REDIS_URL or REDIS_URL: jobs run in-process and failures are only logged\n',
    )
    return 78
  }
  const redis = new Redis(url, { maxRetriesPerRequest: 1 })
  const prefix = queuePrefix(config)
  const out = (line: string) => process.stdout.write(`${line}\n`)
  try {
    const names = values.queue ? [values.queue] : await queueNames(redis, prefix)
    const queues = names.map((name) => new Queue(name, { connection: redis, prefix }))
    try {
      if (sub === 'list') {
        await list(queues, Number(values.limit), out)
        return 0
      }
      if ((sub === 'retry' || sub === 'discard') && values.queue && (values.all || values.id?.length)) {
        const n = await act(queues[0]!, sub, values.all ? 'all' : values.id!)
        out(`${sub === 'retry' ? 'retried' : 'discarded'} ${n} job(s) in ${values.queue}`)
        return 0
      }
      process.stderr.write(USAGE)
      return 2
    } finally {
      await Promise.all(queues.map((q) => q.close()))
    }
  } catch (err) {
    process.stderr.write(`jobs: ${(err as Error).message}\n`)
    return 1
  } finally {
    await redis.quit().catch(() => redis.disconnect())
  }
}
