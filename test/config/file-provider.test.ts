import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { loadConfigWithSecrets } from '../../src/config/load-with-secrets.ts'
import { createFileProvider } from '../../src/config/secrets/file-provider.ts'
import { NO_DOTENV, scratchDir } from './support/env.ts'

function secretsDir(files: Record<string, string>): string {
  const dir = join(scratchDir(), 'secrets')
  mkdirSync(dir)
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, name), value)
  return dir
}

describe('file provider (one file per setting)', () => {
  test('reads each setting from its file, trimmed; a missing or empty file is unset', async () => {
    const dir = secretsDir({ SECRET_KEY: 'k-1\n', REDIS_URL: '\n', PORT: '1' })
    const values = await createFileProvider(dir).fetch(['SECRET_KEY', 'REDIS_URL', 'DATABASE_URL'])
    assert.deepEqual(values, { SECRET_KEY: 'k-1' })
  })

  test('rereads the files on each fetch (Kubernetes rewrites them on rotation)', async () => {
    const dir = secretsDir({ SECRET_KEY: 'k-1' })
    const provider = createFileProvider(dir)
    assert.deepEqual(await provider.fetch(['SECRET_KEY']), { SECRET_KEY: 'k-1' })
    writeFileSync(join(dir, 'SECRET_KEY'), 'k-2')
    assert.deepEqual(await provider.fetch(['SECRET_KEY']), { SECRET_KEY: 'k-2' })
  })

  test('a missing directory (volume not mounted) is an outage', async () => {
    await assert.rejects(
      createFileProvider('/nonexistent/run/secrets').fetch(['SECRET_KEY']),
      /cannot read secrets directory \/nonexistent\/run\/secrets \(ENOENT\)/,
    )
  })

  test('through the loader, the directory beats env and NAME_FILE', async () => {
    const dir = secretsDir({ DATABASE_URL: 'postgres://u:from-dir@db/x' })
    const file = join(scratchDir(), 'db-url')
    writeFileSync(file, 'postgres://u:from-file@db/x')
    const { config, sources, secrets } = await loadConfigWithSecrets(
      {
        DATABASE_URL: 'postgres://u:from-env@db/x',
        DATABASE_URL_FILE: file,
        SECRETS_PROVIDER: 'file',
        SECRETS_FILE_DIR: dir,
      },
      NO_DOTENV,
    )
    secrets.close()
    assert.equal(config.DATABASE_URL, 'postgres://u:from-dir@db/x')
    assert.equal(sources.DATABASE_URL, 'secrets:file')
  })
})
