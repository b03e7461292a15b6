import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after } from 'node:test'

/** Sentry's ingest, standing in on loopback: keeps every envelope it receives, raw and parsed. */
export async function sentryStandIn() {
  const envelopes: Array<{ url: string; raw: string; items: Array<Record<string, unknown>> }> = []
  const server = createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      raw += chunk
    })
    req.on('end', () => {
      const items = raw
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
      envelopes.push({ url: req.url ?? '', raw, items })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { dsn: `http://publickey@127.0.0.1:${port}/7`, envelopes }
}
