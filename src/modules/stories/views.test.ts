import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createUser, publishStory } from '../../../test/helpers/api.ts'
import { buildTestApp, unique } from '../../../test/helpers/app.ts'

const t = await buildTestApp()
const { app } = t
const author = await createUser(t, unique('viewed'))

const read = (id: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url: `/v1/stories/${id}`, headers })
const flush = () => t.platform.ctx.jobs.runNow('stories.flush-views')
const viewCount = async (id: string) => (await read(id, author.headers)).json().viewCount

describe('view counting', () => {
  test('one view per reader per story per hour, written by the flush job', async () => {
    const story = await publishStory(app, author.headers)
    const reader = await t.auth(unique('reader'))
    for (let i = 0; i < 5; i++) await read(story.id, reader)
    assert.equal(await viewCount(story.id), 0, 'views are aggregated, not written on read')
    await flush()
    assert.equal(await viewCount(story.id), 1)
    await read(story.id, reader)
    await flush()
    assert.equal(await viewCount(story.id), 1, 'the same reader within the hour does not count again')
  })

  test('distinct readers count separately; anonymous readers are told apart by address and agent', async () => {
    const story = await publishStory(app, author.headers)
    await read(story.id, await t.auth(unique('r1')))
    await read(story.id, await t.auth(unique('r2')))
    await read(story.id, { 'user-agent': 'agent-a' })
    await read(story.id, { 'user-agent': 'agent-a' })
    await read(story.id, { 'user-agent': 'agent-b' })
    await flush()
    assert.equal(await viewCount(story.id), 4)
  })

  test("the author's own reads and reads of drafts are not counted", async () => {
    const story = await publishStory(app, author.headers)
    await read(story.id, author.headers)
    await flush()
    assert.equal(await viewCount(story.id), 0)
  })
})
