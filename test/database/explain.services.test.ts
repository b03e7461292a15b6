import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { InjectOptions } from 'fastify'
import pg from 'pg'
import pino from 'pino'
import { seedData } from '../../src/cli/seed.ts'
import { createUser, publishStory } from '../helpers/api.ts'
import { buildTestApp, unique } from '../helpers/app.ts'

// Real PostgreSQL only: plans over 100,000 seeded stories. Every statement an
// endpoint issues is captured and EXPLAINed; none may scan `stories` sequentially.
// The cache off: every endpoint must reach the database for its plan to be read.
const t = await buildTestApp({ CACHE_ENABLED: 'false' })
const { app } = t
const { database } = t.platform.ctx
const username = unique('planned')
const author = await createUser(t, username)
const story = await publishStory(app, author.headers, { tags: ['fiction'] })
const explainer = new pg.Client({ connectionString: process.env.DATABASE_URL })

before(async () => {
  await seedData(database, pino({ level: 'warn' }), { users: 2000, stories: 100_000, batchSize: 10_000 })
  await explainer.connect()
})
after(() => explainer.end())

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  Plans?: PlanNode[]
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)]
}

async function statementsOf(request: InjectOptions): Promise<Array<{ text: string; params: unknown[] }>> {
  const seen: Array<{ text: string; params: unknown[] }> = []
  database.setStatementHook((text, params) => {
    if (/^\s*select|^\s*with/i.test(text)) seen.push({ text, params })
  })
  try {
    const res = await app.inject(request)
    assert.ok(res.statusCode < 400, `${request.url} → ${res.statusCode} ${res.body}`)
  } finally {
    database.setStatementHook(null)
  }
  return seen
}

async function assertNoSeqScanOnStories(request: InjectOptions) {
  const statements = await statementsOf(request)
  assert.ok(statements.length > 0, 'the endpoint issued no query')
  for (const { text, params } of statements) {
    const { rows } = await explainer.query(`EXPLAIN (FORMAT JSON) ${text}`, params as unknown[])
    const plan = (rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan
    const seq = nodes(plan).filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'stories')
    assert.equal(
      seq.length,
      0,
      `sequential scan of stories for ${request.url}:\n${text}\n${JSON.stringify(plan, null, 1)}`,
    )
  }
}

describe('hot queries use indexes over 100,000 stories', () => {
  test('feed, first page', () => assertNoSeqScanOnStories({ method: 'GET', url: '/v1/stories?limit=20' }))

  test('feed, a later page (keyset cursor)', async () => {
    let url = '/v1/stories?limit=100'
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({ method: 'GET', url })
      url = `/v1/stories?limit=100&cursor=${encodeURIComponent(res.json().nextCursor)}`
    }
    await assertNoSeqScanOnStories({ method: 'GET', url })
  })

  test('feed by tag', () =>
    assertNoSeqScanOnStories({ method: 'GET', url: '/v1/stories?tag=fiction&limit=20' }))
  test('feed by author', () =>
    assertNoSeqScanOnStories({ method: 'GET', url: `/v1/stories?author=${username}` }))
  test("an author's stories", () =>
    assertNoSeqScanOnStories({ method: 'GET', url: `/v1/profiles/${username}/stories` }))
  test('one story', () => assertNoSeqScanOnStories({ method: 'GET', url: `/v1/stories/${story.id}` }))
  test('trending 24h', () =>
    assertNoSeqScanOnStories({ method: 'GET', url: '/v1/trending?window=24h&limit=20' }))
  test('trending 7d', () =>
    assertNoSeqScanOnStories({ method: 'GET', url: '/v1/trending?window=7d&limit=20' }))
  test('a public profile', () => assertNoSeqScanOnStories({ method: 'GET', url: `/v1/profiles/${username}` }))

  test('the EXPLAIN check itself catches a sequential scan', async () => {
    const { rows } = await explainer.query(
      `EXPLAIN (FORMAT JSON) SELECT count(*) FROM stories WHERE body LIKE '%x%'`,
    )
    const plan = (rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan
    assert.ok(nodes(plan).some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'stories'))
  })
})
