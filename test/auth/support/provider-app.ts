import { sql } from 'drizzle-orm'
import type { LightMyRequestResponse } from 'fastify'
import type { Db } from '../../../src/platform/db/database.ts'
import { buildTestApp, type TestApp } from '../../helpers/app.ts'
import { type JwksMode, type JwksServer, startJwksServer } from './jwks-server.ts'
import { makeKey, providerSettings, type TestKey } from './tokens.ts'

export interface ProviderApp {
  t: TestApp
  server: JwksServer
  keys: { rsa: TestKey; ec: TestKey; ed: TestKey }
  me(token: string): Promise<LightMyRequestResponse>
}

/** An app trusting a real local JWKS server that publishes an RS256, an ES256 and an EdDSA key. */
export async function providerApp(
  settings: Record<string, string> = {},
  serverMode: JwksMode = 'ok',
): Promise<ProviderApp> {
  const keys = { rsa: await makeKey('RS256'), ec: await makeKey('ES256'), ed: await makeKey('EdDSA') }
  const server = await startJwksServer(Object.values(keys).map((k) => k.jwk))
  // Set before the app starts, so its start-up fetch already meets this behaviour.
  server.setMode(serverMode)
  const t = await buildTestApp(providerSettings(server.jwksUrl, settings))
  return {
    t,
    server,
    keys,
    me: (token) =>
      t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } }),
  }
}

/** Counts rows on either backend (PGlite and node-postgres both return `{ rows }`). */
export async function countRows(db: Db, query: ReturnType<typeof sql>): Promise<number> {
  const result = (await db.execute(query)) as unknown as { rows: Array<{ n: number | string }> }
  return Number(result.rows[0]!.n)
}

export const profilesOf = (db: Db, subject: string) =>
  countRows(db, sql`SELECT count(*)::int AS n FROM profiles WHERE subject = ${subject}`)

/** Reads one sample of a metric from the app's /metrics text. */
export async function metricValue(t: TestApp, sample: string): Promise<number> {
  const res = await t.app.inject({ method: 'GET', url: '/metrics' })
  const line = res.body.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? 0 : Number(line.slice(sample.length + 1))
}
