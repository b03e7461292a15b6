import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Metric } from 'prom-client'
import type { Config } from '../../config/schema.ts'
import type { Db } from '../db/database.ts'
import type { ErrorReporter } from '../observability/error-reporter.ts'
import type { Tracing } from '../observability/tracing.ts'
import { createMemoryCounters, createRedisCounters, type PendingCounters } from './counters.ts'
import type { JobDefinition } from './definition.ts'
import { parseFaults } from './faults.ts'
import { createJobMetrics, type JobMetrics, type QueueCounts } from './metrics.ts'
import { createOutboxRelay } from './outbox.ts'
import { createQueueRunner } from './queue-runner.ts'
import { createInProcessRunner, type JobRunner } from './runner.ts'

export { addToOutbox } from './outbox.ts'
export type { JobContext, JobDefinition, JobRunner } from './runner.ts'

type JobsConfig = Pick<
  Config,
  | 'NODE_ENV'
  | 'REDIS_URL'
  | 'QUEUE_REDIS_URL'
  | 'REDIS_KEY_PREFIX'
  | 'WORKER_CONCURRENCY'
  | 'WORKER_SHUTDOWN_TIMEOUT_MS'
  | 'WORKER_LOCK_DURATION_MS'
  | 'FAULT_INJECTION'
>

export interface Jobs {
  runner: JobRunner
  /** Job duration and failure metrics, for the process's registry. */
  metrics: Metric[]
  /** Per-queue job counts; undefined in-process (there is no queue). */
  queueCounts?: QueueCounts
  /** Resolves when the queue's Redis answers (worker health). */
  ping(): Promise<void>
}

/** The Redis that holds queues: QUEUE_REDIS_URL (kept with noeviction) or else REDIS_URL. */
export const queueRedisUrl = (config: Pick<Config, 'REDIS_URL' | 'QUEUE_REDIS_URL'>) =>
  config.QUEUE_REDIS_URL ?? config.REDIS_URL

/** BullMQ keys live under the run's key prefix, so deployments (and test runs) sharing a Redis never mix. */
export const queuePrefix = (config: Pick<Config, 'REDIS_KEY_PREFIX'>) => `${config.REDIS_KEY_PREFIX}bull`

/**
 * Builds the job runner the configuration names (BullMQ on Redis, else in-process),
 * with the outbox relay, fault injection and pending counters around it.
 */
export function createJobs(
  config: JobsConfig,
  db: Db,
  log: Logger,
  role: 'api' | 'worker',
  errors: Pick<ErrorReporter, 'report'>,
  tracing?: Pick<Tracing, 'startRoot'>,
): Jobs {
  const faults = parseFaults(config.FAULT_INJECTION, config.NODE_ENV)
  const { duration, failures } = createJobMetrics([])
  const metrics: JobMetrics = {
    duration,
    failures,
    gaveUp: (job, error) => errors.report(error, { job, process: role }),
    tracing,
  }
  const url = queueRedisUrl(config)
  // Workers wait out a Redis outage; the API must not hang a request on one.
  const redis = url
    ? new Redis(
        url,
        role === 'worker'
          ? { maxRetriesPerRequest: null }
          : { maxRetriesPerRequest: 1, connectTimeout: 2000 },
      )
    : undefined
  redis?.on('error', (err) => log.warn({ err }, 'queue redis unavailable'))
  const core = redis
    ? createQueueRunner({
        redis,
        prefix: queuePrefix(config),
        role,
        concurrency: config.WORKER_CONCURRENCY,
        shutdownTimeoutMs: config.WORKER_SHUTDOWN_TIMEOUT_MS,
        lockDurationMs: config.WORKER_LOCK_DURATION_MS,
        log,
        metrics,
      })
    : createInProcessRunner(log, metrics)
  const relay = createOutboxRelay(db, (name, payload, key) => core.deliver(name, payload, key), log)
  const counters = new Map<string, PendingCounters>()
  const runner: JobRunner = {
    ...core,
    register: <P>(definition: JobDefinition<P>) => core.register(faults.wrap(definition)),
    counters(name) {
      let set = counters.get(name)
      if (!set) {
        set = redis ? createRedisCounters(redis, config.REDIS_KEY_PREFIX, name) : createMemoryCounters()
        counters.set(name, set)
      }
      return set
    },
    outboxCommitted() {
      faults.afterOutboxCommit()
      relay.nudge()
    },
    start() {
      core.start()
      relay.start()
    },
    async stop() {
      await relay.stop()
      await core.stop()
      await redis?.quit().catch(() => redis.disconnect())
    },
  }
  return {
    runner,
    metrics: [duration, failures],
    ...('queueCounts' in core ? { queueCounts: core.queueCounts as QueueCounts } : {}),
    ping: async () => {
      await redis?.ping()
    },
  }
}
