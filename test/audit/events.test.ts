import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { createStory, createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, type TestApp, unique } from '../helpers/app.ts'
import { rowsOfRequest } from './support.ts'

interface Case {
  route: string
  /** Performs the request under test; fixtures are made here, in earlier requests. */
  run(t: TestApp): Promise<{ res: LightMyRequestResponse; actor?: string; target?: string }>
  status: number
  action: string
  outcome: 'success' | 'denied' | 'failed'
  targetType?: string
  details?: Record<string, unknown>
}

const ua = { 'user-agent': 'audit-test/1.0' }

const cases: Case[] = [
  {
    route: 'first authenticated request (profile get-or-create)',
    async run(t) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { ...(await t.auth(unique('sub'))), ...ua },
      })
      return { res, actor: res.json().id, target: res.json().id }
    },
    status: 200,
    action: 'profile.created',
    outcome: 'success',
    targetType: 'profile',
  },
  {
    route: 'PATCH /v1/me',
    async run(t) {
      const { headers, profile } = await createUser(t, unique('u'))
      const res = await t.app.inject({
        method: 'PATCH',
        url: '/v1/me',
        headers: { ...headers, ...ua },
        payload: { bio: 'hi' },
      })
      return { res, actor: profile.id, target: profile.id }
    },
    status: 200,
    action: 'profile.updated',
    outcome: 'success',
    targetType: 'profile',
    details: { fields: ['bio'] },
  },
  {
    route: 'POST /v1/stories',
    async run(t) {
      const { headers, profile } = await createUser(t, unique('u'))
      const payload = { title: 'T', body: 'B', tags: [] }
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/stories',
        headers: { ...headers, ...ua },
        payload,
      })
      return { res, actor: profile.id, target: res.json().id }
    },
    status: 201,
    action: 'story.created',
    outcome: 'success',
    targetType: 'story',
  },
  {
    route: 'POST /v1/stories with Idempotency-Key',
    async run(t) {
      const { headers, profile } = await createUser(t, unique('u'))
      const payload = { title: 'T', body: 'B', tags: [] }
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/stories',
        headers: { ...headers, ...ua, 'idempotency-key': unique('k') },
        payload,
      })
      return { res, actor: profile.id, target: res.json().id }
    },
    status: 201,
    action: 'story.created',
    outcome: 'success',
    targetType: 'story',
    details: { idempotencyKey: true },
  },
  {
    route: 'PATCH /v1/stories/:id',
    async run(t) {
      const { headers, profile } = await createUser(t, unique('u'))
      const story = await createStory(t.app, headers)
      const res = await t.app.inject({
        method: 'PATCH',
        url: `/v1/stories/${story.id}`,
        headers: { ...headers, ...ua },
        payload: { title: 'New' },
      })
      return { res, actor: profile.id, target: story.id }
    },
    status: 200,
    action: 'story.updated',
    outcome: 'success',
    targetType: 'story',
    details: { fields: ['title'] },
  },
  {
    route: 'POST /v1/stories/:id/publish',
    async run(t) {
      const { headers, profile } = await createUser(t, unique('u'))
      const story = await createStory(t.app, headers)
      const res = await t.app.inject({
        method: 'POST',
        url: `/v1/stories/${story.id}/publish`,
        headers: { ...headers, ...ua },
      })
      return { res, actor: profile.id, target: story.id }
    },
    status: 200,
    action: 'story.published',
    outcome: 'success',
    targetType: 'story',
  },
  {
    route: 'DELETE /v1/stories/:id (author)',
    async run(t) {
      const { headers, profile } = await createUser(t, unique('u'))
      const story = await publishStory(t.app, headers)
      const res = await t.app.inject({
        method: 'DELETE',
        url: `/v1/stories/${story.id}`,
        headers: { ...headers, ...ua },
      })
      return { res, actor: profile.id, target: story.id }
    },
    status: 204,
    action: 'story.deleted',
    outcome: 'success',
    targetType: 'story',
    details: { previousStatus: 'published' },
  },
  {
    route: "DELETE /v1/stories/:id (an admin, someone else's story)",
    async run(t) {
      const author = await createUser(t, unique('u'))
      const admin = await createUser(t, unique('a'), ['admin'])
      const story = await publishStory(t.app, author.headers)
      const res = await t.app.inject({
        method: 'DELETE',
        url: `/v1/stories/${story.id}`,
        headers: { ...admin.headers, ...ua },
      })
      return { res, actor: admin.profile.id, target: story.id }
    },
    status: 204,
    action: 'admin.story.deleted',
    outcome: 'success',
    targetType: 'story',
  },
  {
    route: "PATCH /v1/stories/:id (someone else's published story)",
    async run(t) {
      const author = await createUser(t, unique('u'))
      const other = await createUser(t, unique('o'))
      const story = await publishStory(t.app, author.headers)
      const res = await t.app.inject({
        method: 'PATCH',
        url: `/v1/stories/${story.id}`,
        headers: { ...other.headers, ...ua },
        payload: { title: 'Mine now' },
      })
      return { res, actor: other.profile.id, target: 'PATCH /v1/stories/:id' }
    },
    status: 403,
    action: 'authz.denied',
    outcome: 'denied',
    targetType: 'route',
  },
  {
    route: "DELETE /v1/stories/:id (someone else's published story)",
    async run(t) {
      const author = await createUser(t, unique('u'))
      const other = await createUser(t, unique('o'))
      const story = await publishStory(t.app, author.headers)
      const res = await t.app.inject({
        method: 'DELETE',
        url: `/v1/stories/${story.id}`,
        headers: { ...other.headers, ...ua },
      })
      return { res, actor: other.profile.id, target: 'DELETE /v1/stories/:id' }
    },
    status: 403,
    action: 'authz.denied',
    outcome: 'denied',
    targetType: 'route',
  },
  {
    route: 'GET /v1/admin/audit-log (not an admin)',
    async run(t) {
      const { headers, profile } = await createUser(t, unique('u'))
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/admin/audit-log',
        headers: { ...headers, ...ua },
      })
      return { res, actor: profile.id, target: 'GET /v1/admin/audit-log' }
    },
    status: 403,
    action: 'authz.denied',
    outcome: 'denied',
    targetType: 'route',
  },
  {
    route: 'GET /v1/admin/audit-log (an admin)',
    async run(t) {
      const { headers, profile } = await createUser(t, unique('a'), ['admin'])
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/admin/audit-log?action=story.*',
        headers: { ...headers, ...ua },
      })
      return { res, actor: profile.id, target: '*' }
    },
    status: 200,
    action: 'admin.audit_log.read',
    outcome: 'success',
    targetType: 'audit_log',
  },
  {
    route: 'any route with a refused token',
    async run(t) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: 'Bearer not.a.token', 'x-forwarded-for': '1.2.3.4', ...ua },
      })
      return { res }
    },
    status: 401,
    action: 'auth.failed',
    outcome: 'failed',
    details: { reason: 'invalid_token', count: 1 },
  },
]

describe('every sensitive route records its audit event', async () => {
  const t = await buildTestApp()
  for (const c of cases) {
    test(`${c.route} → ${c.action} (${c.outcome})`, async () => {
      const { res, actor, target } = await c.run(t)
      assert.equal(res.statusCode, c.status, res.body)
      const rows = (await rowsOfRequest(t, res)).filter((r) => r.action === c.action)
      assert.equal(rows.length, 1, `one ${c.action} row for the request, got ${JSON.stringify(rows)}`)
      const row = rows[0]!
      assert.equal(row.outcome, c.outcome)
      assert.equal(row.user_agent, 'audit-test/1.0')
      assert.equal(row.client_ip, '127.0.0.1')
      if (actor) assert.equal(row.actor_profile_id, actor)
      else assert.equal(row.actor_type, 'anonymous')
      if (c.targetType) assert.equal(row.target_type, c.targetType)
      if (target) assert.equal(row.target_id, target)
      for (const [name, value] of Object.entries(c.details ?? {}))
        assert.deepEqual(row.details[name], value, name)
    })
  }
})
