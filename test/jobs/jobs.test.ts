import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sql } from 'drizzle-orm'
import { deriveStoryFields } from '../../src/modules/stories/process-job.ts'
import { rowsOf } from '../../src/platform/db/rows.ts'
import { inTransaction } from '../../src/platform/db/transaction.ts'
import { claimCounterBatch, createMemoryCounters } from '../../src/platform/jobs/counters.ts'
import { parseFaults } from '../../src/platform/jobs/faults.ts'
import { createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, unique } from '../helpers/app.ts'
import { eventually } from './support.ts'

// The in-process runner, on either backend: BullMQ with real worker processes is
// worker.services.test.ts. (An empty value counts as unset.)
const inProcess = { REDIS_URL: '', QUEUE_REDIS_URL: '' }
const t = await buildTestApp(inProcess)
const { app } = t
const { ctx } = t.platform
const author = await createUser(t, unique('jobs'))

const fetchStory = async (id: string) =>
  (await app.inject({ method: 'GET', url: `/v1/stories/${id}`, headers: author.headers })).json()

describe('story processing', () => {
  test('derives word count, reading time and an excerpt cut at a word', () => {
    const long = `${'word '.repeat(450)}end`
    const fields = deriveStoryFields(long)
    assert.equal(fields.wordCount, 451)
    assert.equal(fields.readingTimeMinutes, 3)
    assert.ok(fields.excerpt.length <= 280)
    assert.match(fields.excerpt, /^(word )+word…$/)
    assert.deepEqual(deriveStoryFields('  one\n\ntwo  '), {
      wordCount: 2,
      readingTimeMinutes: 1,
      excerpt: 'one two',
    })
  })

  test('publishing fills the derived fields through the outbox, and the outbox empties', async () => {
    const story = await publishStory(app, author.headers, { body: 'three short words' })
    const done = await eventually(async () => {
      const s = await fetchStory(story.id)
      return s.wordCount !== null && s
    }, 'the story to be processed')
    assert.equal(done.wordCount, 3)
    assert.equal(done.excerpt, 'three short words')
    // The relay deletes the row once the job was handed over, just after the job's own
    // write. This story's rows only: in a services run other files' processes share the table.
    await eventually(async () => {
      const [pending] = await rowsOf<{ n: number }>(
        ctx.db.execute(
          sql`SELECT count(*)::int AS n FROM job_outbox WHERE payload->>'storyId' = ${story.id}`,
        ),
      )
      return pending!.n === 0
    }, 'the outbox row to be deleted')
  })

  test('running the job twice changes nothing the second time', async () => {
    const story = await publishStory(app, author.headers, { body: 'idempotent body text' })
    await ctx.jobs.runNow('stories.process', { storyId: story.id })
    const first = await fetchStory(story.id)
    await ctx.jobs.runNow('stories.process', { storyId: story.id })
    const second = await fetchStory(story.id)
    assert.deepEqual(
      [second.wordCount, second.readingTimeMinutes, second.excerpt, second.version],
      [first.wordCount, first.readingTimeMinutes, first.excerpt, first.version],
    )
  })

  test('a payload that does not match the schema is refused at enqueue', async () => {
    await assert.rejects(ctx.jobs.enqueue('stories.process', { storyId: 'not-a-uuid' }), /invalid payload/)
    await assert.rejects(ctx.jobs.enqueue('stories.process', {}), /invalid payload/)
  })
})

describe('view flush', () => {
  test('a batch whose commit went through but whose ack was lost is not added twice', async () => {
    const story = await publishStory(app, author.headers)
    const counters = ctx.jobs.counters('story-views')
    await counters.add(story.id, 3)
    const batch = (await counters.take())!
    // The first flush commits, then "crashes" before acknowledging the batch.
    await inTransaction(ctx.db, async (tx) => {
      assert.ok(await claimCounterBatch(tx, batch.id))
      await tx.execute(
        sql`UPDATE stories SET view_count = view_count + ${batch.counts.get(story.id)!} WHERE id = ${story.id}`,
      )
    })
    await ctx.jobs.runNow('stories.flush-views')
    assert.equal((await fetchStory(story.id)).viewCount, 3)
    assert.equal(await counters.take(), undefined, 'the retried flush acknowledged the batch')
  })

  test('pending counts survive a failed flush and are retried under the same batch id', async () => {
    const counters = createMemoryCounters()
    await counters.add('a', 1)
    const first = await counters.take()
    await counters.add('a', 5)
    assert.equal((await counters.take())!.id, first!.id, 'an unacknowledged batch is handed out again')
    await counters.ack(first!.id)
    assert.equal((await counters.take())!.counts.get('a'), 5)
  })
})

describe('fault injection', () => {
  test('is refused in production and rejects unknown faults', () => {
    assert.throws(() => parseFaults('exit-after-outbox-commit', 'production'), /refused/)
    assert.throws(() => parseFaults('explode', 'test'), /unknown fault/)
    assert.doesNotThrow(() => parseFaults(undefined, 'production'))
  })

  test('in-process, a failing job is retried with backoff until it succeeds', async () => {
    const flaky = await buildTestApp({ ...inProcess, FAULT_INJECTION: 'job-fail:stories.process:2' })
    const writer = await createUser(flaky, unique('flaky'))
    const story = await publishStory(flaky.app, writer.headers, { body: 'retried until done' })
    const started = performance.now()
    await eventually(async () => {
      const res = await flaky.app.inject({
        method: 'GET',
        url: `/v1/stories/${story.id}`,
        headers: writer.headers,
      })
      return res.json().wordCount === 3
    }, 'the third try to succeed')
    // Two failures, then backoff of 1 s and 2 s: the success cannot come sooner.
    assert.ok(performance.now() - started >= 2_900)
  })
})
