import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { renderConfigDocs } from '../../src/config/docs.ts'
import { ConfigSchema } from '../../src/config/schema.ts'
import { checkSecretKey, SECRET_KEY_PLACEHOLDER } from '../../src/config/secret-key.ts'

const committed = () =>
  readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8')

test('docs/configuration.md is up to date with the schema', () => {
  assert.equal(
    committed(),
    renderConfigDocs(),
    'docs/configuration.md is stale: run `npm run --silent inkwell -- config docs > docs/configuration.md`',
  )
})

test('the generated docs list every setting, with its type, default and secrecy', () => {
  const docs = renderConfigDocs()
  for (const name of Object.keys(ConfigSchema.properties))
    assert.match(docs, new RegExp(`^\\| \`${name}\` +\\|`, 'm'))
  assert.match(docs, /^\| `PORT` +\| integer 0–65535 +\| `8080` +\| +\|/m)
  assert.match(docs, /^\| `SECRET_KEY` +\| string +\| — +\| yes +\|/m)
  assert.match(docs, /^\| `SECRETS_PROVIDER` +\| one of: `env`, `file`, `aws`, `vault` +\| `env` +\|/m)
  assert.ok(docs.includes(`Example: \`${SECRET_KEY_PLACEHOLDER}\``))
  assert.match(docs, /^\| `SECRET_KEY: placeholder` +\|/m)
})

test("the README's example SECRET_KEY is the placeholder production refuses", () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8')
  const example = /SECRET_KEY=([^\s`|]+)/.exec(readme)?.[1]
  assert.equal(example, SECRET_KEY_PLACEHOLDER)
  assert.ok(checkSecretKey(example).some((issue) => issue.code === 'placeholder'))
})

test('every description is present: none left empty', () => {
  for (const [name, schema] of Object.entries(ConfigSchema.properties))
    assert.ok(String((schema as { description?: string }).description ?? '').length > 10, name)
})
