import { AsyncResource } from 'node:async_hooks'
import type { Logger } from 'pino'
import { outsideScope } from '../request-scope.ts'
import type { PendingCounters } from './counters.ts'
import { backoffDelay, checkPayload, type JobDefinition, jobDefaults, runHandler } from './definition.ts'
import { type JobMetrics, startTry } from './metrics.ts'

export type { JobContext, JobDefinition } from './definition.ts'

export interface JobRunner {
  readonly kind: 'in-process' | 'queue'
  register<P>(definition: JobDefinition<P>): void
  definitions(): JobDefinition<never>[]
  /** Validates the payload, then queues the job (in-process: runs it in the background). */
  enqueue<P>(name: string, payload: P, options?: { jobId?: string }): Promise<void>
  /** Resolves once the job can no longer be lost: queued in Redis, or (in-process) run. */
  deliver(name: string, payload: unknown, key: string): Promise<void>
  /** Runs a job here and now and waits for it (operators' "run now", and tests). */
  runNow<P>(name: string, payload?: P): Promise<void>
  /** The pending-counter set `name`, shared by every process on the same backend. */
  counters(name: string): PendingCounters
  /** Called after a transaction that wrote the outbox commits: relay it now. */
  outboxCommitted(): void
  start(): void
  stop(): Promise<void>
}

/** A registry of definitions, shared by both runners. */
export function createRegistry() {
  const definitions = new Map<string, JobDefinition<never>>()
  return {
    add(definition: JobDefinition<never>) {
      if (definitions.has(definition.name)) throw new Error(`job ${definition.name} registered twice`)
      definitions.set(definition.name, definition)
    },
    get(name: string): JobDefinition<never> {
      const definition = definitions.get(name)
      if (!definition) throw new Error(`unknown job ${name}`)
      return definition
    },
    all: () => [...definitions.values()],
  }
}

/** Runs a job in this process with its retries and backoff; failures are logged, not thrown. */
export async function executeLocally(
  definition: JobDefinition<never>,
  payload: unknown,
  log: Logger,
  metrics?: JobMetrics,
): Promise<boolean> {
  const attempts = definition.attempts ?? jobDefaults.attempts
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const run = startTry(metrics, definition.name, attempt)
    try {
      await runHandler(definition, payload, attempt)
      run.completed()
      return true
    } catch (err) {
      run.failed(err, attempt === attempts)
      log.error({ err, job: definition.name, attempt }, 'job failed')
      if (attempt < attempts) await new Promise((r) => setTimeout(r, backoffDelay(definition, attempt)))
    }
  }
  return false
}

type Core = Omit<JobRunner, 'counters' | 'outboxCommitted'>

/** The embedded default: jobs run inside the API process, periodic ones on timers. */
export function createInProcessRunner(log: Logger, metrics?: JobMetrics): Core {
  const registry = createRegistry()
  const timers: NodeJS.Timeout[] = []
  const running = new Set<Promise<unknown>>()
  let stopped = false
  // A job enqueued during a request starts outside its scope (request-scope.ts), so its
  // first statements never take the request's deadline, and in the runner's own async
  // context, so what follows a request's async context (database.countStatements) does
  // not follow the job.
  const context = new AsyncResource('inkwell.jobs')

  const execute = (definition: JobDefinition<never>, payload: unknown) => {
    const task = context.runInAsyncScope(() =>
      outsideScope(() => executeLocally(definition, payload, log, metrics)),
    )
    running.add(task)
    void task.finally(() => running.delete(task))
    return task
  }
  const schedule = (definition: JobDefinition<never>, everyMs: number) => {
    let busy = false
    const timer = setInterval(() => {
      // A slow periodic run is never overlapped by the next tick.
      if (busy || stopped) return
      busy = true
      void execute(definition, {}).finally(() => {
        busy = false
      })
    }, everyMs)
    timer.unref()
    timers.push(timer)
  }

  return {
    kind: 'in-process',
    register: (definition) => registry.add(definition as JobDefinition<never>),
    definitions: registry.all,
    async enqueue(name, payload) {
      if (stopped) throw new Error(`job runner stopped; ${name} not run`)
      const definition = registry.get(name)
      checkPayload(definition, payload)
      void execute(definition, payload)
    },
    async deliver(name, payload) {
      const definition = registry.get(name)
      checkPayload(definition, payload)
      await execute(definition, payload)
    },
    runNow: async (name, payload) => {
      await execute(registry.get(name), payload ?? {})
    },
    start() {
      for (const definition of registry.all())
        if (definition.everyMs) schedule(definition, definition.everyMs)
    },
    async stop() {
      stopped = true
      for (const timer of timers) clearInterval(timer)
      await Promise.allSettled([...running])
      for (const definition of registry.all()) {
        if (definition.runOnStop) await execute(definition, {})
      }
    },
  }
}
