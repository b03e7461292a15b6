import { processStoryJob, viewFlushJob } from './modules/stories/index.ts'
import { recomputeTrendingJob } from './modules/trending/index.ts'
import type { AppContext } from './platform/context.ts'

/** A do-nothing job: a canary for the queue and the benchmark's baseline. */
export const NOOP_JOB = 'jobs.noop'

/**
 * The modules' jobs, registered for the API (which enqueues them, and runs them
 * in-process in the embedded default) and the worker alike: both build the same app.
 * Each handler lives in the module that owns its data.
 */
export function registerJobs(ctx: AppContext): void {
  ctx.jobs.register({ name: NOOP_JOB, concurrency: 16, handler: async () => {} })
  ctx.jobs.register(viewFlushJob(ctx))
  ctx.jobs.register(processStoryJob(ctx))
  ctx.jobs.register(recomputeTrendingJob(ctx))
}
