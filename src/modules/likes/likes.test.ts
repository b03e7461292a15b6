import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { assertProblem, createStory, createUser, publishStory } from '../../../test/helpers/api.ts'
import { buildTestApp, unique } from '../../../test/helpers/app.ts'

const t = await buildTestApp()
const { app } = t
const author = await createUser(t, unique('liked'))

const like = (id: string, headers: Record<string, string>, method: 'PUT' | 'DELETE' = 'PUT') =>
  app.inject({ method, url: `/v1/stories/${id}/like`, headers })

describe('likes', () => {
  test('like and unlike are idempotent and the count is exact', async () => {
    const story = await publishStory(app, author.headers)
    const fan = await t.auth(unique('fan'))
    assert.deepEqual((await like(story.id, fan)).json(), { liked: true, likeCount: 1 })
    assert.deepEqual((await like(story.id, fan)).json(), { liked: true, likeCount: 1 })
    const read = await app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })
    assert.equal(read.json().likeCount, 1)
    assert.deepEqual((await like(story.id, fan, 'DELETE')).json(), { liked: false, likeCount: 0 })
    assert.deepEqual((await like(story.id, fan, 'DELETE')).json(), { liked: false, likeCount: 0 })
  })

  test('concurrent likes of one story by 60 users count exactly 60', async () => {
    const story = await publishStory(app, author.headers)
    const fans = await Promise.all(Array.from({ length: 60 }, () => t.auth(unique('crowd'))))
    const results = await Promise.all(fans.flatMap((h) => [like(story.id, h), like(story.id, h)]))
    assert.ok(results.every((r) => r.statusCode === 200))
    const read = await app.inject({ method: 'GET', url: `/v1/stories/${story.id}` })
    assert.equal(read.json().likeCount, 60)
  })

  test('a draft, a deleted story and an unknown id cannot be liked (404)', async () => {
    const fan = await t.auth(unique('fan'))
    const draft = await createStory(app, author.headers)
    assertProblem(await like(draft.id, fan), 404, 'story_not_found')
    const gone = await publishStory(app, author.headers)
    await app.inject({ method: 'DELETE', url: `/v1/stories/${gone.id}`, headers: author.headers })
    assertProblem(await like(gone.id, fan), 404, 'story_not_found')
    assertProblem(await like(gone.id, fan, 'DELETE'), 404, 'story_not_found')
    assertProblem(await like('01900000-0000-7000-8000-000000000000', fan), 404, 'story_not_found')
  })

  test('liking needs authentication', async () => {
    const story = await publishStory(app, author.headers)
    assertProblem(
      await app.inject({ method: 'PUT', url: `/v1/stories/${story.id}/like` }),
      401,
      'unauthenticated',
    )
  })
})
