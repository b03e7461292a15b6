import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  passwordOf,
  postgresConnection,
  postgresConnectionString,
  usesTls,
} from '../../src/config/database-url.ts'

test('TLS is recognised from the URL or DATABASE_SSL', () => {
  assert.equal(usesTls('postgres://u@h/d', undefined), false)
  assert.equal(usesTls('postgres://u@h/d?sslmode=disable', undefined), false)
  assert.equal(usesTls('postgres://u@h/d?sslmode=prefer', undefined), false)
  for (const mode of ['require', 'verify-ca', 'verify-full', 'no-verify'])
    assert.equal(usesTls(`postgres://u@h/d?sslmode=${mode}`, undefined), true, mode)
  assert.equal(usesTls('postgres://u@h/d?ssl=true', undefined), true)
  assert.equal(usesTls('postgres://u@h/d', 'require'), true)
  assert.equal(usesTls('postgres://u@h/d', 'disable'), false)
})

test('DATABASE_SSL overrides the URL sslmode for node-postgres', () => {
  assert.equal(
    postgresConnectionString('postgres://u@h/d?sslmode=disable', 'verify-full'),
    'postgres://u@h/d?sslmode=verify-full',
  )
  // libpq's require (encrypted, unverified) is node-postgres's no-verify.
  assert.equal(
    postgresConnectionString('postgres://u@h/d?ssl=true', 'require'),
    'postgres://u@h/d?sslmode=no-verify',
  )
  assert.equal(
    postgresConnectionString('postgres://u@h/d?sslmode=require', 'disable'),
    'postgres://u@h/d?sslmode=require',
  )
  assert.equal(postgresConnectionString('postgres://u@h/d', undefined), 'postgres://u@h/d')
})

test('with a password function the URL is passed as parts, so the function is used', async () => {
  const password = async () => 'rotated'
  const connection = postgresConnection(
    'postgres://inkwell:old@db.internal:6432/app?sslmode=verify-full',
    undefined,
    password,
  )
  assert.equal(connection.connectionString, undefined)
  assert.equal(connection.password, password)
  assert.deepEqual(
    { host: connection.host, port: connection.port, user: connection.user, database: connection.database },
    { host: 'db.internal', port: 6432, user: 'inkwell', database: 'app' },
  )
  assert.ok(connection.ssl)
  assert.deepEqual(postgresConnection('postgres://u:p@h/d', undefined), {
    connectionString: 'postgres://u:p@h/d',
  })
})

test('the password of a URL is decoded', () => {
  assert.equal(passwordOf('postgres://u:p%40ss%2Fw@h/d'), 'p@ss/w')
  assert.equal(passwordOf('postgres://u@h/d'), undefined)
})
