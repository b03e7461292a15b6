import type { Logger } from 'pino'

/**
 * A job is defined once: its name, its handler, and optionally a period. The
 * in-process runner below runs them inside the API process (the embedded default);
 * a queue-backed runner runs the same definitions in worker processes.
 * Handlers must be idempotent: a job may run again after a crash or a retry.
 */
export interface JobDefinition<P = unknown> {
  name: string
  handler: (payload: P) => Promise<void>
  /** Run periodically, every `everyMs`. */
  everyMs?: number
  /** Also run once while stopping (flushes buffered state). */
  runOnStop?: boolean
  attempts?: number
}

export interface JobRunner {
  register<P>(definition: JobDefinition<P>): void
  enqueue<P>(name: string, payload: P): Promise<void>
  /** Runs a job now and waits for it (operators' "run now", and tests). */
  runNow<P>(name: string, payload?: P): Promise<void>
  start(): void
  stop(): Promise<void>
}

export function createInProcessRunner(log: Logger): JobRunner {
  const definitions = new Map<string, JobDefinition<never>>()
  const timers: NodeJS.Timeout[] = []
  const running = new Set<Promise<void>>()
  let stopped = false

  const definitionOf = (name: string) => {
    const definition = definitions.get(name)
    if (!definition) throw new Error(`unknown job ${name}`)
    return definition
  }

  const execute = (definition: JobDefinition<never>, payload: unknown): Promise<void> => {
    const attempts = definition.attempts ?? 3
    const task = (async () => {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          await definition.handler(payload as never)
          return
        } catch (err) {
          log.error({ err, job: definition.name, attempt }, 'job failed')
          if (attempt < attempts) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt))
        }
      }
    })()
    running.add(task)
    void task.finally(() => running.delete(task))
    return task
  }

  return {
    register(definition) {
      if (definitions.has(definition.name)) throw new Error(`job ${definition.name} registered twice`)
      definitions.set(definition.name, definition as JobDefinition<never>)
    },
    async enqueue(name, payload) {
      if (stopped) throw new Error(`job runner stopped; ${name} not run`)
      void execute(definitionOf(name), payload)
    },
    runNow: (name, payload) => execute(definitionOf(name), payload),
    start() {
      for (const definition of definitions.values()) {
        if (!definition.everyMs) continue
        let busy = false
        const timer = setInterval(() => {
          // A slow periodic run is never overlapped by the next tick.
          if (busy || stopped) return
          busy = true
          void execute(definition, undefined).finally(() => {
            busy = false
          })
        }, definition.everyMs)
        timer.unref()
        timers.push(timer)
      }
    },
    async stop() {
      stopped = true
      for (const timer of timers) clearInterval(timer)
      await Promise.allSettled([...running])
      for (const definition of definitions.values()) {
        if (definition.runOnStop) await execute(definition, undefined)
      }
    },
  }
}
