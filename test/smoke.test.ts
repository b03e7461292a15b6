import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildTestApp } from './helpers/app.ts'

test('smoke', async () => {
  const t = await buildTestApp()
  const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: await t.auth('smoke') })
  assert.equal(res.statusCode, 200)
})
