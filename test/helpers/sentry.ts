import { after } from 'node:test'
import { listen, sendJson } from '../config/support/http.ts'

/** Sentry's ingest, standing in on loopback: keeps every envelope it receives, raw and parsed. */
export async function sentryStandIn() {
  const envelopes: Array<{ url: string; raw: string; items: Array<Record<string, unknown>> }> = []
  const server = await listen((req, raw, res) => {
    const items = raw
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    envelopes.push({ url: req.url ?? '', raw, items })
    sendJson(res, 200, {})
  })
  after(() => server.close())
  return { dsn: `${server.url.replace('http://', 'http://publickey@')}/7`, envelopes }
}
