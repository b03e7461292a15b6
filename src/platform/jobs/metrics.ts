import { SpanKind } from '@opentelemetry/api'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { endSpan, type Tracing } from '../observability/tracing.ts'

/** How many jobs of each queue are in each state (the autoscaling and alerting signal). */
export type QueueCounts = () => Promise<Array<{ queue: string; counts: Record<string, number> }>>

export interface JobMetrics {
  duration: Histogram<'job' | 'status'>
  failures: Counter<'job'>
  /** A job's last try failed, so it will not run again (reported to Sentry when configured). */
  gaveUp?: ((job: string, error: unknown) => void) | undefined
  /** Each try is a span of its own trace when tracing is on. */
  tracing?: Pick<Tracing, 'startRoot'> | undefined
}

/**
 * Times one try of a job, counts its failure, and traces it when tracing is on; a
 * failed last try (no retry follows) is handed to `gaveUp`.
 */
export function startTry(metrics: JobMetrics | undefined, job: string, attempt: number) {
  const done = metrics?.duration.startTimer({ job })
  const span = metrics?.tracing?.startRoot(`job ${job}`, SpanKind.CONSUMER, {
    'inkwell.job.name': job,
    'inkwell.job.attempt': attempt,
  })
  return {
    completed() {
      done?.({ status: 'completed' })
      endSpan(span)
    },
    failed(error: unknown, last: boolean) {
      done?.({ status: 'failed' })
      metrics?.failures.inc({ job })
      endSpan(span, error)
      if (last) metrics?.gaveUp?.(job, error)
    },
  }
}

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const

/** Read at each scrape, so every worker replica reports the same (shared) queue depth. */
export function createQueueGauge(registers: Registry[], queueCounts: QueueCounts): Gauge<'queue' | 'state'> {
  return new Gauge({
    name: 'inkwell_job_queue_jobs',
    help: 'Jobs per queue and state (waiting, active, delayed, failed).',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      for (const { queue, counts } of await queueCounts()) {
        for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0)
      }
    },
  })
}

export function createJobMetrics(registers: Registry[]): JobMetrics {
  return {
    duration: new Histogram({
      name: 'inkwell_job_duration_seconds',
      help: 'Time one try of a job took, by job and outcome.',
      labelNames: ['job', 'status'],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 30, 60, 300],
      registers,
    }),
    failures: new Counter({
      name: 'inkwell_job_failures_total',
      help: 'Failed tries, by job.',
      labelNames: ['job'],
      registers,
    }),
  }
}
