import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'

/** What a handler gets besides its payload. */
export interface JobContext {
  /** Aborted when the job's timeout passes or the worker is shutting down hard. */
  signal: AbortSignal
  /** 1 on the first try. */
  attempt: number
}

/**
 * A job is defined once: its name (also its queue's name), payload schema, handler
 * and delivery policy. The in-process runner (embedded default) and the BullMQ
 * runner (REDIS_URL / QUEUE_REDIS_URL) run the same definitions.
 * Handlers must be idempotent: a job may run again after a crash or a retry.
 */
export interface JobDefinition<P = unknown> {
  name: string
  handler: (payload: P, job: JobContext) => Promise<void>
  /** TypeBox schema; a payload that does not match is refused at enqueue and never retried. */
  payload?: TSchema
  /** Run periodically, every `everyMs`: once per period whatever the number of workers. */
  everyMs?: number
  /** Also run once while stopping (flushes buffered state; only with scope `process`, or in-process). */
  runOnStop?: boolean
  /**
   * `queue` (default): one run per period or enqueue, on any worker. `process`: the
   * state lives in this process's memory (a buffer to flush), so each process that
   * registers it runs it on its own timer, never through the queue.
   */
  scope?: 'queue' | 'process'
  /** Tries in all, first included (default 3). */
  attempts?: number
  /** First retry delay; each further retry doubles it (default 1000 ms). */
  backoffMs?: number
  /** A run taking longer fails (and is retried) (default 60 s). */
  timeoutMs?: number
  /** Jobs of this definition one worker process runs at once (default 1). */
  concurrency?: number
}

export const jobDefaults = { attempts: 3, backoffMs: 1000, timeoutMs: 60_000, concurrency: 1 }

export class InvalidPayloadError extends Error {}

export function checkPayload(definition: JobDefinition<never>, payload: unknown): void {
  if (!definition.payload || Value.Check(definition.payload, payload)) return
  const first = [...Value.Errors(definition.payload, payload)][0]
  throw new InvalidPayloadError(
    `invalid payload for job ${definition.name}: ${first ? `${first.instancePath || '/'} ${first.message}` : 'does not match'}`,
  )
}

/** Runs the handler under its timeout; the signal tells it to give up. */
export async function runHandler(
  definition: JobDefinition<never>,
  payload: unknown,
  attempt: number,
  outer?: AbortSignal,
): Promise<void> {
  const timeoutMs = definition.timeoutMs ?? jobDefaults.timeoutMs
  const controller = new AbortController()
  const abort = () => controller.abort(outer?.reason)
  outer?.addEventListener('abort', abort, { once: true })
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`job ${definition.name} timed out after ${timeoutMs} ms`)
      controller.abort(err)
      reject(err)
    }, timeoutMs)
  })
  try {
    await Promise.race([
      definition.handler(payload as never, { signal: controller.signal, attempt }),
      timedOut,
    ])
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', abort)
  }
}

/** Delay before try `attempt + 1`, after `attempt` failed. */
export const backoffDelay = (definition: JobDefinition<never>, attempt: number) =>
  (definition.backoffMs ?? jobDefaults.backoffMs) * 2 ** (attempt - 1)
