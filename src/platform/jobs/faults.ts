import { setTimeout as sleep } from 'node:timers/promises'
import type { JobDefinition } from './definition.ts'

/**
 * Fault injection for failure drills and tests (FAULT_INJECTION, comma-separated):
 *   exit-after-outbox-commit   the process kills itself right after a transaction
 *                              that wrote the outbox commits, before the relay runs
 *   job-fail:<job>:<n>         the first n tries of each <job> fail
 *   job-slow:<job>:<ms>        each <job> takes ms longer (shutdown drills)
 * Refused in production: these break the guarantees they exist to test.
 */
export interface Faults {
  afterOutboxCommit(): void
  wrap<P>(definition: JobDefinition<P>): JobDefinition<P>
}

export function parseFaults(spec: string | undefined, nodeEnv: string): Faults {
  const items = (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (items.length > 0 && nodeEnv === 'production') {
    throw new Error('FAULT_INJECTION is refused when NODE_ENV=production')
  }
  const fail = new Map<string, number>()
  const slow = new Map<string, number>()
  for (const item of items) {
    const [kind, job, n] = item.split(':')
    if (kind === 'exit-after-outbox-commit' && job === undefined) continue
    if ((kind === 'job-fail' || kind === 'job-slow') && job && Number.isInteger(Number(n))) {
      ;(kind === 'job-fail' ? fail : slow).set(job, Number(n))
      continue
    }
    throw new Error(`FAULT_INJECTION: unknown fault "${item}"`)
  }
  const exitAfterCommit = items.includes('exit-after-outbox-commit')
  return {
    afterOutboxCommit() {
      // SIGKILL, not exit(): nothing may run after the commit, as in a real crash.
      if (exitAfterCommit) process.kill(process.pid, 'SIGKILL')
    },
    wrap(definition) {
      const failures = fail.get(definition.name) ?? 0
      const delayMs = slow.get(definition.name) ?? 0
      if (failures === 0 && delayMs === 0) return definition
      return {
        ...definition,
        async handler(payload, job) {
          if (job.attempt <= failures) throw new Error(`injected failure (try ${job.attempt})`)
          if (delayMs > 0) await sleep(delayMs)
          await definition.handler(payload, job)
        },
      }
    },
  }
}
