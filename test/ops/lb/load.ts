/**
 * A bounded load generator for failure drills: a steady request rate over
 * keep-alive connections to a loopback address, stopping at `maxRequests`,
 * `maxDurationMs` or `stop()`, whichever comes first. Every response is recorded
 * with its time, so a drill can tell when failures happened.
 *
 *   node --import tsx test/ops/lb/load.ts --url http://127.0.0.1:8080 --rate 100 --seconds 20
 */
import { parseArgs } from 'node:util'

export interface LoadOptions {
  baseUrl: string
  /** Requests per second, spread over `concurrency` workers. */
  rate: number
  concurrency: number
  maxRequests: number
  maxDurationMs: number
  /** Bearer token for the writes; without one only reads are sent. */
  token?: string
  /** Fraction of requests that are writes (POST /v1/stories). */
  writeShare?: number
}

export interface Sample {
  /** ms since the load started, when the request was sent. */
  at: number
  ms: number
  method: string
  path: string
  /** 0 when no HTTP response arrived. */
  status: number
  code?: string
  detail?: string
  error?: string
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])
const READS = ['/v1/stories?limit=10', '/v1/stories?limit=3', '/v1/trending']

export function isFailure(sample: Sample): boolean {
  return sample.status === 0 || sample.status >= 500
}

async function send(base: string, options: LoadOptions, started: number, n: number): Promise<Sample> {
  const write = options.token !== undefined && (n * 7919) % 100 < (options.writeShare ?? 0) * 100
  const path = write ? '/v1/stories' : READS[n % READS.length]!
  const init: RequestInit = write
    ? {
        method: 'POST',
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          title: `load ${n}`,
          body: 'Written during a failure drill.',
          tags: ['drill'],
        }),
      }
    : { method: 'GET' }
  const at = performance.now() - started
  try {
    const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(30_000) })
    const text = await res.text()
    const sample: Sample = {
      at,
      ms: performance.now() - started - at,
      method: init.method!,
      path,
      status: res.status,
    }
    if (res.status >= 400) {
      sample.code = /"code":"([a-z_]+)"/.exec(text)?.[1]
      sample.detail = /"detail":"([^"]{0,120})/.exec(text)?.[1] ?? text.slice(0, 120)
    }
    return sample
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    return {
      at,
      ms: performance.now() - started - at,
      method: init.method!,
      path,
      status: 0,
      error: cause?.code ?? (err as Error).message,
    }
  }
}

/** Starts the load; `stop()` ends it and resolves with every sample. */
export function startLoad(options: LoadOptions) {
  const url = new URL(options.baseUrl)
  if (!LOOPBACK.has(url.hostname)) throw new Error(`load is only sent to loopback, not ${url.hostname}`)
  const base = url.origin
  const samples: Sample[] = []
  const started = performance.now()
  const interval = 1000 / options.rate
  let issued = 0
  let stopped = false
  const worker = async () => {
    for (;;) {
      const elapsed = performance.now() - started
      if (stopped || issued >= options.maxRequests || elapsed >= options.maxDurationMs) return
      const n = issued++
      const due = n * interval - elapsed
      if (due > 0) await new Promise((resolve) => setTimeout(resolve, due))
      samples.push(await send(base, options, started, n))
    }
  }
  const workers = Promise.all(Array.from({ length: options.concurrency }, worker))
  return {
    samples,
    elapsedMs: () => performance.now() - started,
    async stop(): Promise<Sample[]> {
      stopped = true
      await workers
      return samples
    },
  }
}

export function summarize(samples: Sample[]) {
  const latencies = samples.map((s) => s.ms).sort((a, b) => a - b)
  const pct = (p: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0)
  const byStatus: Record<string, number> = {}
  for (const s of samples) {
    const key = s.status === 0 ? `error:${s.error}` : s.code ? `${s.status}:${s.code}` : String(s.status)
    byStatus[key] = (byStatus[key] ?? 0) + 1
  }
  return {
    requests: samples.length,
    failures: samples.filter(isFailure).length,
    writes: samples.filter((s) => s.method === 'POST').length,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    maxMs: pct(1),
    byStatus,
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080' },
      rate: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '16' },
      seconds: { type: 'string', default: '10' },
      max: { type: 'string', default: '100000' },
      token: { type: 'string' },
      writes: { type: 'string', default: '0.1' },
    },
  })
  const load = startLoad({
    baseUrl: values.url!,
    rate: Number(values.rate),
    concurrency: Number(values.concurrency),
    maxRequests: Number(values.max),
    maxDurationMs: Math.min(Number(values.seconds), 600) * 1000,
    token: values.token,
    writeShare: Number(values.writes),
  })
  await new Promise((resolve) => setTimeout(resolve, Math.min(Number(values.seconds), 600) * 1000))
  console.log(JSON.stringify(summarize(await load.stop()), null, 2))
}
