import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { queuePrefix } from '../../src/platform/jobs/index.ts'
import { createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, unique } from '../helpers/app.ts'
import { runCli } from '../helpers/process.ts'
import { sentryStandIn } from '../helpers/sentry.ts'
import { eventually, workerHarness } from './support.ts'

// Services run only: the API below enqueues on BullMQ, real worker processes consume.
const t = await buildTestApp()
const { ctx } = t.platform
const author = await createUser(t, unique('queued'))
const { noop, queue, worker, stopAll } = workerHarness(queuePrefix(ctx.config), process.env)
const cli = (...args: string[]) => runCli(['jobs', ...args], { ...process.env, NODE_ENV: 'test' })

describe('BullMQ workers', () => {
  test('a worker processes published stories and reports queue metrics and health', async () => {
    assert.equal(ctx.jobs.kind, 'queue')
    const w = await worker()
    const story = await publishStory(t.app, author.headers, { body: 'processed by a worker' })
    await eventually(async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: `/v1/stories/${story.id}`,
        headers: author.headers,
      })
      return res.json().wordCount === 4
    }, 'the worker to process the story')
    assert.equal((await fetch(`${w.monitorUrl}/healthz`)).status, 200)
    const metrics = await (await fetch(`${w.monitorUrl}/metrics`)).text()
    assert.match(metrics, /inkwell_job_queue_jobs\{queue="stories.process",state="waiting"\} \d+/)
    assert.match(
      metrics,
      /inkwell_job_duration_seconds_count\{job="stories.process",status="completed"\} [1-9]/,
    )
    assert.equal(await w.stop('SIGTERM'), 0)
  })

  test('the same outbox key delivered twice queues one job', async () => {
    const key = unique('outbox')
    await ctx.jobs.deliver('jobs.noop', {}, key)
    await ctx.jobs.deliver('jobs.noop', {}, key)
    const jobs = await noop.getJobs(['waiting', 'active', 'completed', 'delayed'])
    assert.equal(jobs.filter((j) => j.id === key).length, 1)
  })

  test('failures are retried with exponential backoff, then kept in the failed set', async () => {
    // Only a job's last try goes to Sentry: the retried job reports nothing.
    const sentry = await sentryStandIn()
    const w = await worker({ FAULT_INJECTION: 'job-fail:jobs.noop:2', SENTRY_DSN: sentry.dsn })
    const recovered = unique('retry')
    await ctx.jobs.enqueue('jobs.noop', {}, { jobId: recovered })
    // failedReason stays set from the failed tries, so ask for the state itself.
    await eventually(async () => (await noop.getJob(recovered))?.isCompleted(), 'the third try to succeed')
    const done = (await noop.getJob(recovered))!
    // Backoff 1 s then 2 s: the success cannot come sooner than 3 s after the enqueue.
    assert.ok(done.finishedOn! - done.timestamp >= 3000, `${done.finishedOn! - done.timestamp} ms`)
    await w.stop()

    assert.equal(sentry.envelopes.length, 0)

    const broken = await worker({ FAULT_INJECTION: 'job-fail:jobs.noop:99', SENTRY_DSN: sentry.dsn })
    const [failedA, failedB] = [unique('failed'), unique('failed')]
    await ctx.jobs.enqueue('jobs.noop', {}, { jobId: failedA })
    await ctx.jobs.enqueue('jobs.noop', {}, { jobId: failedB })
    await eventually(async () => (await noop.getJob(failedB))?.isFailed(), 'both jobs in the failed set')
    await eventually(async () => (await noop.getJob(failedA))?.isFailed(), 'both jobs in the failed set')
    assert.equal((await noop.getJob(failedA))!.attemptsMade, 3)
    await broken.stop()
    // The jobs that gave up were reported by the worker process (sent by its shutdown at
    // the latest). Both failed with the same error and stack, which Sentry's dedupe
    // integration sends once.
    const reported = sentry.envelopes.map((e) => (e.items[2] as { tags: Record<string, string> }).tags)
    assert.ok(reported.length >= 1)
    for (const tags of reported) assert.deepEqual(tags, { job: 'jobs.noop', process: 'worker' })

    const listed = cli('list', '--queue', 'jobs.noop')
    assert.equal(listed.status, 0, listed.stderr)
    assert.match(listed.stdout, new RegExp(`failed jobs.noop ${failedA} tries=3 .*injected failure`))
    assert.equal(cli('discard', '--queue', 'jobs.noop', '--id', failedB).status, 0)
    assert.equal(await noop.getJob(failedB), undefined)
    await worker()
    assert.equal(cli('retry', '--queue', 'jobs.noop', '--id', failedA).status, 0)
    await eventually(async () => (await noop.getJob(failedA))?.isCompleted(), 'the retried job to complete')
  })

  test('a periodic job runs once per period across two workers', async () => {
    const env = { TRENDING_REFRESH_S: '1' }
    await Promise.all([worker(env), worker(env)])
    const trending = queue('trending.recompute')
    try {
      await eventually(
        async () => (await trending.getJobSchedulers()).some((s) => s.every === 1000),
        'the 1 s schedule',
      )
      const since = Date.now()
      await sleep(5000)
      const runs = (await trending.getJobs(['completed', 'active'])).filter((j) => j.timestamp >= since)
      assert.equal(
        (await trending.getJobSchedulers()).length,
        1,
        'one schedule, whatever the number of workers',
      )
      // Two workers each scheduling would give about 10 runs in 5 s; one schedule gives at most 6.
      assert.ok(runs.length >= 2 && runs.length <= 6, `${runs.length} runs`)
      assert.equal(new Set(runs.map((j) => j.id)).size, runs.length)
    } finally {
      await stopAll()
      await trending.close()
    }
  })

  test('SIGTERM lets the active job finish before the worker exits', async () => {
    const w = await worker({ FAULT_INJECTION: 'job-slow:jobs.noop:3000' })
    const id = unique('slow')
    await ctx.jobs.enqueue('jobs.noop', {}, { jobId: id })
    await eventually(async () => (await noop.getJob(id))?.isActive(), 'the job to start')
    assert.equal(await w.stop('SIGTERM'), 0)
    const job = (await noop.getJob(id))!
    assert.ok(await job.isCompleted(), 'finished before exit, not abandoned')
    assert.equal(job.attemptsStarted, 1, 'ran once')
  })
})
