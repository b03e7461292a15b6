import { setTimeout as sleep } from 'node:timers/promises'
import { type ConnectionOptions, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import {
  checkPayload,
  type InvalidPayloadError,
  type JobDefinition,
  jobDefaults,
  runHandler,
} from './definition.ts'
import { type JobMetrics, type QueueCounts, startTry } from './metrics.ts'
import { createInProcessRunner, createRegistry, executeLocally, type JobRunner } from './runner.ts'

export interface QueueRunnerOptions {
  /** Producer connection (fails fast); workers open their own blocking connections. */
  redis: Redis
  /** BullMQ key prefix, e.g. `inkwell:bull`. */
  prefix: string
  /** `api` only enqueues; `worker` also consumes and owns the schedules. */
  role: 'api' | 'worker'
  /** Default concurrency of a definition that names none. */
  concurrency: number
  /** Longest wait for active jobs on stop before they are left to be re-queued. */
  shutdownTimeoutMs: number
  /** Job lock, renewed every half of it while the job runs; also the stalled-check interval. */
  lockDurationMs: number
  log: Logger
  metrics?: JobMetrics
}

/** Failed jobs stay a week for `inkwell jobs`; completed ones an hour (also de-duplicates outbox ids). */
export function jobOptions(definition: JobDefinition<never>): JobsOptions {
  return {
    attempts: definition.attempts ?? jobDefaults.attempts,
    backoff: { type: 'exponential', delay: definition.backoffMs ?? jobDefaults.backoffMs },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 86_400 },
  }
}

type Core = Omit<JobRunner, 'counters' | 'outboxCommitted'> & { queueCounts: QueueCounts }

export function createQueueRunner(options: QueueRunnerOptions): Core {
  const { redis, prefix, log, metrics } = options
  const registry = createRegistry()
  // Process-scoped jobs (in-memory buffers) run here on timers, in every role.
  const local = createInProcessRunner(log, metrics)
  const queues = new Map<string, Queue>()
  const workers: Worker[] = []

  const queueOf = (name: string) => {
    let queue = queues.get(name)
    if (!queue) {
      queue = new Queue(name, { connection: redis, prefix })
      queue.on('error', (err) => log.warn({ err, queue: name }, 'queue error'))
      queues.set(name, queue)
    }
    return queue
  }
  const isLocal = (name: string) => local.definitions().some((d) => d.name === name)
  const add = async (name: string, payload: unknown, jobId?: string) => {
    const definition = registry.get(name)
    checkPayload(definition, payload)
    await queueOf(name).add(name, payload, { ...jobOptions(definition), ...(jobId ? { jobId } : {}) })
  }

  const processorOf =
    (definition: JobDefinition<never>) =>
    async (job: { data: unknown; attemptsMade: number }, _t?: string, signal?: AbortSignal) => {
      try {
        checkPayload(definition, job.data)
      } catch (err) {
        // A malformed payload never gets better: straight to the failed set.
        metrics?.gaveUp?.(definition.name, err)
        throw new UnrecoverableError((err as InvalidPayloadError).message)
      }
      const run = startTry(metrics, definition.name, job.attemptsMade + 1)
      try {
        await runHandler(definition, job.data, job.attemptsMade + 1, signal)
        run.completed()
      } catch (err) {
        const attempt = job.attemptsMade + 1
        run.failed(err, attempt >= (definition.attempts ?? jobDefaults.attempts))
        log.warn({ err, job: definition.name, attempt }, 'job failed')
        throw err
      }
    }

  const startWorker = async (definition: JobDefinition<never>) => {
    const queue = queueOf(definition.name)
    if (definition.everyMs) {
      // One scheduler per job name, whatever the number of workers upserting it:
      // BullMQ creates one job per period for it, run by exactly one worker.
      await queue.upsertJobScheduler(
        definition.name,
        { every: definition.everyMs },
        { name: definition.name, data: {}, opts: jobOptions(definition) },
      )
    }
    const worker = new Worker(definition.name, processorOf(definition), {
      // Blocking connections of its own; BullMQ requires unlimited retries on them.
      connection: { ...redis.options, maxRetriesPerRequest: null } as ConnectionOptions,
      prefix,
      concurrency: definition.concurrency ?? options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.lockDurationMs,
    })
    worker.on('error', (err) => log.warn({ err, queue: definition.name }, 'worker error'))
    workers.push(worker)
  }

  const closeWorkers = async () => {
    const graceful = Promise.all(workers.map((w) => w.close()))
    const inTime = await Promise.race([graceful.then(() => true), sleep(options.shutdownTimeoutMs, false)])
    if (!inTime) {
      // Stop waiting and let the process exit. Not `close(true)`: once a close is under
      // way BullMQ returns that same (graceful) close. Until the process exits the worker
      // keeps renewing its jobs' locks, so no other worker can take them meanwhile; once
      // it has, the locks lapse (lockDurationMs) and another worker's stalled-job check
      // returns them to the queue. A job is thus never lost nor run twice at once.
      log.warn('active jobs did not finish in time; leaving them to be re-queued')
    }
  }

  return {
    kind: 'queue',
    register(definition) {
      if (definition.scope === 'process') local.register(definition)
      else registry.add(definition as JobDefinition<never>)
    },
    definitions: () => [...registry.all(), ...local.definitions()],
    enqueue: (name, payload, opts) =>
      isLocal(name) ? local.enqueue(name, payload) : add(name, payload, opts?.jobId),
    deliver: (name, payload, key) =>
      isLocal(name) ? local.deliver(name, payload, key) : add(name, payload, key),
    async runNow(name, payload) {
      if (isLocal(name)) return local.runNow(name, payload)
      await executeLocally(registry.get(name), payload ?? {}, log, metrics)
    },
    start() {
      local.start()
      if (options.role !== 'worker') return
      for (const definition of registry.all()) {
        startWorker(definition).catch((err) =>
          log.error({ err, job: definition.name }, 'worker did not start'),
        )
      }
    },
    async stop() {
      await closeWorkers()
      await local.stop()
      await Promise.all([...queues.values()].map((q) => q.close()))
    },
    async queueCounts() {
      return Promise.all(
        registry.all().map(async (d) => ({
          queue: d.name,
          counts: await queueOf(d.name).getJobCounts('waiting', 'active', 'delayed', 'failed'),
        })),
      )
    },
  }
}
