import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { ConfigSchema } from '../../src/config/schema.ts'
import { shutdownBudgetMs } from '../../src/platform/http/shutdown.ts'

const root = join(import.meta.dirname, '..', '..')
const k8s = readFileSync(join(root, 'deploy', 'k8s', 'api.yaml'), 'utf8')
const haproxy = readFileSync(join(root, 'deploy', 'haproxy', 'haproxy.cfg'), 'utf8')

function defaultOf(name: keyof typeof ConfigSchema.properties): number {
  return (ConfigSchema.properties[name] as unknown as { default: number }).default
}

/** `- { name: X, value: "N" }` in the Deployment's env. */
function envValue(name: string): number {
  const match = new RegExp(`name: ${name}, value: "(\\d+)"`).exec(k8s)
  assert.ok(match, `${name} is not set in deploy/k8s/api.yaml`)
  return Number(match[1])
}

/** A number from the readinessProbe block, e.g. periodSeconds. */
function readinessProbe(field: string): number {
  const block = k8s.slice(k8s.indexOf('readinessProbe:'), k8s.indexOf('resources:'))
  const match = new RegExp(`${field}: (\\d+)`).exec(block)
  assert.ok(match, `readinessProbe.${field} missing`)
  return Number(match[1])
}

/** HAProxy durations: "15s", "500ms". */
function haproxyMs(pattern: RegExp): number {
  const match = pattern.exec(haproxy)
  assert.ok(match, `${pattern} not found in deploy/haproxy/haproxy.cfg`)
  const [, value, unit] = match
  return Number(value) * (unit === 's' ? 1000 : 1)
}

describe('Kubernetes timings agree with the shutdown sequence', () => {
  test('the grace period outlasts the whole shutdown budget', () => {
    const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(k8s)?.[1]) * 1000
    const budget = shutdownBudgetMs({
      drainMs: envValue('SHUTDOWN_DRAIN_MS'),
      timeoutMs: envValue('SHUTDOWN_TIMEOUT_MS'),
    })
    assert.ok(grace > budget, `terminationGracePeriodSeconds ${grace} ms <= budget ${budget} ms`)
  })

  test('in-flight requests get a full deadline after the listener closes', () => {
    assert.ok(envValue('SHUTDOWN_TIMEOUT_MS') >= envValue('REQUEST_TIMEOUT_MS'))
  })

  test('readiness failing takes the pod out well within the drain', () => {
    const detection =
      envValue('READY_CACHE_MS') + readinessProbe('periodSeconds') * readinessProbe('failureThreshold') * 1000
    assert.ok(detection < envValue('SHUTDOWN_DRAIN_MS'), `${detection} ms`)
  })
})

describe('HAProxy timings agree with the API defaults', () => {
  test("clients get the API's own 503 timeout, not a 504 from the load balancer", () => {
    assert.ok(haproxyMs(/timeout server (\d+)(s|ms)/) > defaultOf('REQUEST_TIMEOUT_MS'))
  })

  test('an instance leaves rotation before its drain ends', () => {
    const inter = haproxyMs(/default-server inter (\d+)(s|ms)/)
    const fastinter = haproxyMs(/fastinter (\d+)(s|ms)/)
    const fall = Number(/ fall (\d+)/.exec(haproxy)?.[1])
    const detection = defaultOf('READY_CACHE_MS') + inter + fastinter * (fall - 1)
    assert.ok(detection < defaultOf('SHUTDOWN_DRAIN_MS'), `${detection} ms`)
  })

  test('a probe is given longer than the readiness checks take', () => {
    assert.ok(haproxyMs(/timeout check (\d+)(s|ms)/) > defaultOf('READY_CHECK_TIMEOUT_MS'))
  })

  test('probes go to /readyz and must answer 200', () => {
    assert.match(haproxy, /http-check send meth GET uri \/readyz/)
    assert.match(haproxy, /http-check expect status 200/)
  })
})
