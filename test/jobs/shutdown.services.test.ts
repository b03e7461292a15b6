import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { queuePrefix } from '../../src/platform/jobs/index.ts'
import { buildTestApp, unique } from '../helpers/app.ts'
import { eventually, workerHarness } from './support.ts'

// Services run only. Queues of their own (a key prefix inside the run's), so the workers
// of test/jobs/worker.services.test.ts never take these jobs, nor these workers theirs.
const keyPrefix = `${process.env.REDIS_KEY_PREFIX ?? 'inkwell:test:'}shutdown:`
const LOCK_MS = 4000
const SHUTDOWN_MS = 1000
const base = {
  ...process.env,
  NODE_ENV: 'test',
  REDIS_KEY_PREFIX: keyPrefix,
  WORKER_LOCK_DURATION_MS: String(LOCK_MS),
  WORKER_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_MS),
}
const t = await buildTestApp({ REDIS_KEY_PREFIX: keyPrefix })
const { noop, worker } = workerHarness(queuePrefix({ REDIS_KEY_PREFIX: keyPrefix }), base)

test('SIGTERM past the shutdown bound: the job returns to the queue, never runs on two workers at once', async () => {
  // A's run would take a minute; its shutdown bound is one second.
  const a = await worker({ FAULT_INJECTION: 'job-slow:jobs.noop:60000' })
  const id = unique('long')
  await t.platform.ctx.jobs.enqueue('jobs.noop', {}, { jobId: id })
  await eventually(async () => (await noop.getJob(id))?.isActive(), 'A to start the job')
  const first = (await noop.getJob(id))!

  // B checks for stalled jobs every LOCK_MS; while A lives it renews the lock, so B
  // leaves the job alone however long it runs.
  const b = await worker()
  await sleep(LOCK_MS * 3)
  const held = (await noop.getJob(id))!
  assert.ok(await held.isActive(), 'still active on A')
  assert.equal(held.attemptsStarted, 1, 'not taken by B while A holds it')
  assert.equal(held.processedOn, first.processedOn)

  const signalled = Date.now()
  assert.equal(await a.stop('SIGTERM'), 0, a.output())
  const exited = Date.now()
  // Exit 0: it stopped waiting at the bound, rather than being cut off 10 s later (exit 1).
  assert.ok(exited - signalled < SHUTDOWN_MS + 10_000, `A took ${exited - signalled} ms to exit`)
  assert.match(a.output(), /active jobs did not finish in time/)
  assert.ok(!(await (await noop.getJob(id))!.isCompleted()), 'A did not finish it')

  // A is gone: its lock lapses and B's stalled-job check returns the job to the queue.
  await eventually(async () => (await noop.getJob(id))?.isCompleted(), 'B to run the job', LOCK_MS * 10)
  const done = (await noop.getJob(id))!
  assert.equal(done.attemptsStarted, 2, 'started once on A, once on B')
  assert.equal(done.stalledCounter, 1, 'recovered as stalled')
  assert.ok(!done.failedReason, 'a worker shutting down is not a failed try')
  assert.ok(done.processedOn! >= exited, 'B started it only after A had exited')
  assert.match(b.output(), /monitoring on/)
})
