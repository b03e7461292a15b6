import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isDatabaseUnavailable } from '../../src/platform/db/errors.ts'

test('errors that mean "retry shortly" are told apart from bugs, bare or wrapped by Drizzle', () => {
  const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code })
  const wrapped = (cause: Error) => Object.assign(new Error('Failed query'), { cause })
  for (const code of ['ECONNREFUSED', '08006', '57P01', '53300', '28P01']) {
    assert.ok(isDatabaseUnavailable(pgError(code)), code)
    assert.ok(isDatabaseUnavailable(wrapped(pgError(code))), `${code} wrapped`)
  }
  // A password refused mid-rotation (28P01) is retryable; a constraint or a syntax error is a bug.
  for (const code of ['23505', '42601', '28000', '22P02'])
    assert.ok(!isDatabaseUnavailable(pgError(code)), code)
  assert.ok(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect')))
})
