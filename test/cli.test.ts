import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose'
import { DEV_AUDIENCE, DEV_ISSUER, loadOrCreateDevKey, publicJwks } from '../src/platform/auth/dev-idp.ts'
import { freshDataDir } from './helpers/app.ts'
import { embeddedEnv, runCli, type ServerProcess, startServer } from './helpers/process.ts'

describe('npm run token', () => {
  test('prints only a JWT signed by the dev IdP key in DATA_DIR', async () => {
    const dataDir = freshDataDir()
    const out = runCli(
      ['token', '--sub', 'alice', '--role', 'admin', '--ttl', '2h'],
      embeddedEnv({ DATA_DIR: dataDir }),
    )
    assert.equal(out.status, 0, out.stderr)
    const token = out.stdout.trim()
    assert.match(out.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    const keySet = createLocalJWKSet(publicJwks(await loadOrCreateDevKey(dataDir)))
    const { payload } = await jwtVerify(token, keySet, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE })
    assert.equal(payload.sub, 'alice')
    assert.deepEqual(payload.roles, ['admin'])
    assert.ok(Math.abs(payload.exp! - payload.iat! - 7200) <= 1)
  })

  test('refuses a missing --sub and a malformed --ttl', () => {
    const env = embeddedEnv({ DATA_DIR: freshDataDir() })
    assert.notEqual(runCli(['token'], env).status, 0)
    assert.notEqual(runCli(['token', '--sub', 'a', '--ttl', 'forever'], env).status, 0)
  })
})

describe('the embedded database belongs to one process', () => {
  let server: ServerProcess | undefined
  after(() => server?.stop('SIGKILL'))

  test('a second process on a DATA_DIR in use exits with a clear error; the store stays usable', async () => {
    const dataDir = freshDataDir()
    const env = embeddedEnv({ DATA_DIR: dataDir, SEED_DEMO: 'false' })
    server = await startServer(env)
    const token = runCli(['token', '--sub', 'while-running'], env)
    assert.equal(
      token.status,
      0,
      'the token command reads only the key file, so it works while the server runs',
    )
    const me = await fetch(`${server.baseUrl}/v1/me`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}` },
    })
    assert.equal(me.status, 200)

    for (const args of [['migrate'], ['seed', '--users', '1', '--stories', '1']]) {
      const second = runCli(args, env)
      assert.equal(second.status, 1, `${args[0]} must refuse`)
      assert.match(second.stderr, /in use by process \d+/)
    }
    assert.equal(await server.stop('SIGTERM'), 0)
    const migrate = runCli(['migrate'], env)
    assert.equal(migrate.status, 0, migrate.stderr)
    assert.match(migrate.stdout, /up to date/)
  })

  test('a lock left by a dead process is taken over', () => {
    const dataDir = freshDataDir()
    mkdirSync(join(dataDir, 'inkwell.lock'))
    writeFileSync(join(dataDir, 'inkwell.lock', 'owner.json'), JSON.stringify({ pid: 2 ** 22 + 12345 }))
    const out = runCli(['migrate'], embeddedEnv({ DATA_DIR: dataDir }))
    assert.equal(out.status, 0, out.stderr)
  })
})

describe('seeding', () => {
  test('npm run seed inserts the requested users and stories with exact like counts', async () => {
    const dataDir = freshDataDir()
    const env = embeddedEnv({ DATA_DIR: dataDir, SEED_DEMO: 'false' })
    const out = runCli(['seed', '--users', '7', '--stories', '40'], env)
    assert.equal(out.status, 0, out.stderr)
    const server = await startServer(env)
    try {
      let seen = 0
      let cursor: string | null = null
      do {
        const res = (await fetch(
          `${server.baseUrl}/v1/stories?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        ).then((r) => r.json())) as { items: unknown[]; nextCursor: string | null }
        seen += res.items.length
        cursor = res.nextCursor
      } while (cursor)
      assert.ok(seen > 20 && seen <= 40, `about 90% of 40 stories are published, saw ${seen}`)
    } finally {
      await server.stop()
    }
  })

  test('a first start on an empty store seeds demo data unless SEED_DEMO=false', async () => {
    for (const [seed, expectStories] of [
      ['true', true],
      ['false', false],
    ] as const) {
      const server = await startServer(
        embeddedEnv({ DATA_DIR: join(freshDataDir(), 'empty'), SEED_DEMO: seed }),
      )
      try {
        const res = (await fetch(`${server.baseUrl}/v1/stories`).then((r) => r.json())) as {
          items: unknown[]
        }
        assert.equal(res.items.length > 0, expectStories, `SEED_DEMO=${seed}`)
      } finally {
        assert.equal(await server.stop(), 0)
      }
    }
  })
})

test('decodeJwt sanity: the dev token carries the configured issuer', () => {
  const out = runCli(['token', '--sub', 'bob'], embeddedEnv({ DATA_DIR: freshDataDir() }))
  assert.equal(decodeJwt(out.stdout.trim()).iss, DEV_ISSUER)
})
