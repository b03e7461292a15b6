// Throughput of authenticated requests against the real server process:
//   npm run bench -- auth [--alg RS256|ES256|EdDSA] [--requests 20000] [--connections 20]
//                         [--database-url postgres://…/scratch]   (migrated; default: embedded PGlite)
// GET /v1/me with one hot token (verified-token cache), with a distinct valid token on
// every request (a full signature verification each), and GET /healthz as the ceiling.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { entryArgs, root } from './lib.ts'

interface Result {
  requests: { average: number }
  latency: { p50: number; p99: number }
  non2xx: number
  errors: number
}
interface Request {
  method?: string
  path?: string
  headers?: Record<string, string>
}
type Autocannon = (options: {
  url: string
  connections: number
  amount: number
  requests: Array<{ setupRequest: (request: Request) => Request }>
}) => Promise<Result>

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon
const ISSUER = 'https://bench-idp.example/'
const AUDIENCE = 'inkwell-bench'

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done))
  const { port } = probe.address() as AddressInfo
  await new Promise((done) => probe.close(done))
  return port
}

/** A stand-in identity provider publishing one key. */
async function startProvider(alg: string) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  const kid = randomUUID()
  const body = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }] })
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`
  const sign = (jti: string) =>
    new SignJWT({ jti })
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('bench-user')
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(privateKey)
  return { url, sign, close: () => server.close() }
}

function migrate(env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, [...entryArgs('src/cli/main.ts'), 'migrate'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  })
  return new Promise((done, fail) =>
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`migrate exited with ${code}`)))),
  )
}

async function startInkwell(
  port: number,
  jwksUrl: string,
  dataDir: string,
  databaseUrl: string | undefined,
): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' }
  if (databaseUrl) await migrate({ ...env, DATABASE_URL: databaseUrl })
  const child = spawn(process.execPath, entryArgs('src/server.ts'), {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...env,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      SEED_DEMO: 'false',
      AUTH_DEV: 'false',
      AUTH_ISSUER: ISSUER,
      AUTH_AUDIENCE: AUDIENCE,
      AUTH_JWKS_URL: jwksUrl,
      // Measure throughput, not the shedding that protects it.
      SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    },
  })
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return child
    await new Promise((done) => setTimeout(done, 100))
  }
  throw new Error('server did not become ready')
}

function scenario(url: string, connections: number, path: string, tokens: string[]) {
  let next = 0
  return autocannon({
    url,
    connections,
    amount: tokens.length,
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          path,
          headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` },
        }),
      },
    ],
  })
}

const row = (name: string, r: Result, base: number) =>
  `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(8)} req/s  p50 ${String(r.latency.p50).padStart(3)} ms  p99 ${String(r.latency.p99).padStart(4)} ms  ${(r.requests.average / base).toFixed(2)}x healthz  non-2xx ${r.non2xx + r.errors}`

interface Figures {
  health: Result
  hot: Result
  distinct: Result
}

/** Warms up, then runs the three scenarios back to back on the same server. */
async function measure(url: string, connections: number, tokens: string[]): Promise<Figures> {
  const hot = tokens.pop()!
  const warmup = tokens.splice(0, 999)
  // Warm the JIT, the key set and the profile before measuring.
  await scenario(url, connections, '/healthz', Array(2000).fill(hot))
  await scenario(url, connections, '/v1/me', [...Array(2000).fill(hot), ...warmup])
  return {
    health: await scenario(url, connections, '/healthz', Array(tokens.length).fill(hot)),
    hot: await scenario(url, connections, '/v1/me', Array(tokens.length).fill(hot)),
    distinct: await scenario(url, connections, '/v1/me', tokens),
  }
}

function report(figures: Figures, setup: string): string {
  const base = figures.health.requests.average
  const hotOverDistinct = figures.hot.requests.average / figures.distinct.requests.average
  return [
    `\n${setup}`,
    row('GET /healthz', figures.health, base),
    row('GET /v1/me, one hot token', figures.hot, base),
    row('GET /v1/me, distinct tokens', figures.distinct, base),
    `hot token / distinct tokens: ${hotOverDistinct.toFixed(2)}x\n`,
  ].join('\n')
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      alg: { type: 'string', default: 'RS256' },
      requests: { type: 'string', default: '20000' },
      connections: { type: 'string', default: '20' },
      'database-url': { type: 'string' },
    },
  })
  const amount = Number(values.requests)
  const connections = Number(values.connections)
  const provider = await startProvider(values.alg!)
  const dataDir = join(root, '.tmp', `bench-${randomUUID()}`)
  const port = await freePort()
  const server = await startInkwell(port, provider.url, dataDir, values['database-url'])
  try {
    process.stdout.write(`signing ${amount + 1000} ${values.alg} tokens…\n`)
    const tokens = await Promise.all(Array.from({ length: amount + 1000 }, () => provider.sign(randomUUID())))
    const figures = await measure(`http://127.0.0.1:${port}`, connections, tokens)
    const database = values['database-url'] ? 'PostgreSQL' : 'embedded PGlite'
    process.stdout.write(
      report(
        figures,
        `${amount} requests per scenario, ${connections} connections, ${values.alg}, ${database}`,
      ),
    )
  } finally {
    server.kill('SIGTERM')
    await new Promise((done) => server.once('exit', done))
    provider.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
