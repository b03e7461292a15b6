import assert from 'node:assert/strict'
import { test } from 'node:test'
import { currentScope } from '../../src/platform/request-scope.ts'
import { createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp } from '../helpers/app.ts'

// Periodic background work stays out of the way (see the retries below for the rest).
const t = await buildTestApp({
  CACHE_ENABLED: 'false',
  VIEW_FLUSH_INTERVAL_S: '60',
  TRENDING_REFRESH_S: '3600',
  AUDIT_SEAL_INTERVAL_MS: '60000',
  AUDIT_AGGREGATE_WINDOW_S: '3600',
})

type Entry = (...args: unknown[]) => unknown

/**
 * Records, for every call into the database client behind the app's drizzle database
 * (the pg Pool, or the PGlite client), the request id of the scope it started in.
 */
function watchEntryPoints(): { seen: Array<string | undefined>; stop(): void } {
  const client = (t.app.ctx.db as unknown as { session: { client: Record<string, unknown> } }).session.client
  const seen: Array<string | undefined> = []
  const restore: Array<() => void> = []
  for (const name of ['query', 'connect', 'transaction']) {
    const original = client[name]
    if (typeof original !== 'function') continue
    const own = Object.hasOwn(client, name)
    client[name] = function (this: unknown, ...args: unknown[]) {
      seen.push(currentScope()?.request?.id)
      return (original as Entry).apply(this, args)
    }
    restore.push(() => {
      if (own) client[name] = original
      else delete client[name]
    })
  }
  return {
    seen,
    stop() {
      for (const undo of restore) undo()
    },
  }
}

test("every statement a route issues starts in its request's scope (its deadline, its audit source)", async () => {
  const { headers } = await createUser(t, 'scoped_reader')
  const story = await publishStory(t.app, headers, { title: 'Scoped', body: 'Every statement in scope.' })
  const other = await t.auth('sub-scoped-newcomer')
  const requests = [
    { method: 'GET', url: `/v1/stories/${story.id}`, headers: other },
    { method: 'GET', url: '/v1/stories?limit=5' },
    { method: 'GET', url: '/v1/profiles/scoped_reader/stories?limit=5' },
    { method: 'GET', url: '/v1/profiles/scoped_reader' },
    { method: 'GET', url: '/v1/trending?window=24h&limit=5' },
    { method: 'GET', url: '/v1/me', headers },
    { method: 'PATCH', url: '/v1/me', headers, payload: { displayName: 'Scoped Reader' } },
    { method: 'POST', url: '/v1/stories', headers, payload: { title: 'Draft', body: 'Body.', tags: [] } },
    { method: 'PUT', url: `/v1/stories/${story.id}/like`, headers: other },
    { method: 'PATCH', url: `/v1/stories/${story.id}`, headers, payload: { title: 'Scoped, edited' } },
  ] as const
  // Work a request starts in the background (the publish's job, the outbox relay's
  // timer, a pool probe) runs unbound by design and may land in another request's
  // window: a route that bypasses request.deps shows an unscoped call on every try,
  // background work only by chance, so each request gets three tries.
  const attempt = async (request: (typeof requests)[number]) => {
    const watch = watchEntryPoints()
    const requestId = `scope-check-${request.method}-${request.url}`.replace(/[^A-Za-z0-9-]/g, '-')
    try {
      const res = await t.app.inject({
        ...request,
        headers: { ...('headers' in request ? request.headers : {}), 'x-request-id': requestId },
      })
      assert.ok(res.statusCode < 400, `${request.method} ${request.url}: ${res.statusCode} ${res.body}`)
      return watch.seen.map((id) => (id === res.headers['x-request-id'] ? 'scoped' : `in scope ${id}`))
    } finally {
      watch.stop()
    }
  }
  for (const request of requests) {
    let calls: string[] = []
    for (let tries = 0; tries < 3; tries++) {
      calls = await attempt(request)
      if (calls.every((c) => c === 'scoped')) break
    }
    assert.ok(calls.length > 0, `${request.method} ${request.url} reached the database`)
    assert.deepEqual(
      calls.filter((c) => c !== 'scoped'),
      [],
      `${request.method} ${request.url}: calls outside its scope`,
    )
  }
})
