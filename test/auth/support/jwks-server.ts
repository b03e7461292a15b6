import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after } from 'node:test'

/** How the server answers: normally, with HTTP 500, by dropping the connection, or never. */
export type JwksMode = 'ok' | 'error' | 'drop' | 'hang'

export interface JwksServer {
  url: string
  jwksUrl: string
  /** Requests seen per path (the JWKS path is what the storm and outage tests count). */
  hits(path?: string): number
  setKeys(keys: object[]): void
  setMode(mode: JwksMode): void
  /** Serves `document` at <any issuer path>/.well-known/openid-configuration. */
  setDiscovery(document: object | null): void
  close(): Promise<void>
}

/** A real identity-provider stand-in on 127.0.0.1, closed when the test file ends. */
export async function startJwksServer(initialKeys: object[] = []): Promise<JwksServer> {
  let keys = initialKeys
  let mode: JwksMode = 'ok'
  let discovery: object | null = null
  const hits = new Map<string, number>()
  const hanging = new Set<ServerResponse>()

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0]!
    hits.set(path, (hits.get(path) ?? 0) + 1)
    if (mode === 'hang') {
      hanging.add(response)
      return
    }
    if (mode === 'drop') {
      request.socket.destroy()
      return
    }
    const body =
      path === '/jwks.json' ? { keys } : path.endsWith('/.well-known/openid-configuration') ? discovery : null
    if (mode === 'error' || body === null) {
      response.writeHead(mode === 'error' ? 500 : 404).end()
      return
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const close = async () => {
    for (const response of hanging) response.destroy()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  after(close)
  return {
    url,
    jwksUrl: `${url}/jwks.json`,
    hits: (path = '/jwks.json') => hits.get(path) ?? 0,
    setKeys(next) {
      keys = next
    },
    setMode(next) {
      mode = next
    },
    setDiscovery(document) {
      discovery = document
    },
    close,
  }
}
