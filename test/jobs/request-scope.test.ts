import assert from 'node:assert/strict'
import { test } from 'node:test'
import pino from 'pino'
import { Deadline } from '../../src/platform/deadline.ts'
import { createInProcessRunner } from '../../src/platform/jobs/runner.ts'
import { currentScope, runInScope } from '../../src/platform/request-scope.ts'

test("a job enqueued in a request's scope starts outside it (its statements never take the request's deadline)", async () => {
  const runner = createInProcessRunner(pino({ level: 'silent' }))
  const seen: unknown[] = []
  runner.register({
    name: 'scope-probe',
    // The handler starts in the same turn as the enqueue: it sees whatever scope is current.
    handler: async () => {
      seen.push(currentScope())
    },
  })
  const scope = { deadline: new Deadline() }
  await runInScope(scope, () => runner.enqueue('scope-probe', {}))
  await runner.stop()
  assert.deepEqual(seen, [undefined])
})
