import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { TestApp } from './app.ts'

/** Asserts an RFC 9457 problem response with the given status and code; returns its body. */
export function assertProblem(res: LightMyRequestResponse, status: number, code: string) {
  assert.equal(res.statusCode, status, `expected ${status} ${code}, got ${res.statusCode}: ${res.body}`)
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  const body = res.json()
  assert.equal(body.code, code)
  assert.equal(body.status, status)
  assert.equal(typeof body.title, 'string')
  assert.equal(typeof body.detail, 'string')
  assert.equal(body.requestId, res.headers['x-request-id'])
  return body
}

export interface StoryInput {
  title?: string
  body?: string
  tags?: string[]
}

/** Creates a user with a chosen username; returns its auth header and profile. */
export async function createUser(t: TestApp, username: string, roles?: string[]) {
  const headers = await t.auth(`sub-${username}`, { roles })
  const res = await t.app.inject({ method: 'PATCH', url: '/v1/me', headers, payload: { username } })
  assert.equal(res.statusCode, 200, res.body)
  return { headers, profile: res.json() }
}

export async function createStory(
  app: FastifyInstance,
  headers: Record<string, string>,
  input: StoryInput = {},
) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/stories',
    headers,
    payload: {
      title: input.title ?? 'A title',
      body: input.body ?? 'Some body text.',
      tags: input.tags ?? [],
    },
  })
  assert.equal(res.statusCode, 201, res.body)
  return res.json()
}

export async function publishStory(
  app: FastifyInstance,
  headers: Record<string, string>,
  input: StoryInput = {},
) {
  const story = await createStory(app, headers, input)
  const res = await app.inject({ method: 'POST', url: `/v1/stories/${story.id}/publish`, headers })
  assert.equal(res.statusCode, 200, res.body)
  return res.json()
}
