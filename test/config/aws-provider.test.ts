import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { loadConfigWithSecrets } from '../../src/config/load-with-secrets.ts'
import { createAwsProvider } from '../../src/config/secrets/aws-provider.ts'
import { SecretsProviderError } from '../../src/config/secrets/index.ts'
import { startAwsStandIn } from './support/aws-stand-in.ts'
import { NO_DOTENV, productionEnv } from './support/env.ts'

const REGION = 'eu-west-1'
const credentials = { accessKeyId: 'AKIAINKWELLTEST', secretAccessKey: 'stand-in-secret-access-key' }
const aws = await startAwsStandIn({ accessKeyId: credentials.accessKeyId, region: REGION })
after(() => aws.close())

const NAMES = ['SECRET_KEY', 'DATABASE_URL', 'REDIS_URL']

function provider(secretId: string, overrides: { accessKeyId?: string } = {}) {
  return createAwsProvider({
    secretId,
    region: REGION,
    endpoint: aws.url,
    timeoutMs: 2000,
    credentials: { ...credentials, ...overrides },
    maxAttempts: 1,
  })
}

describe('AWS Secrets Manager provider (the real SDK against a local endpoint)', () => {
  test('reads a JSON secret of setting names, signed with the given credentials', async () => {
    aws.put(
      'inkwell/prod',
      JSON.stringify({ SECRET_KEY: 'k-1', REDIS_URL: 'rediss://:p@cache:6379', OTHER: 'x' }),
    )
    const p = provider('inkwell/prod')
    after(() => p.close())
    assert.deepEqual(await p.fetch(NAMES), { SECRET_KEY: 'k-1', REDIS_URL: 'rediss://:p@cache:6379' })
    assert.match(
      aws.log.authorizations.at(-1) ?? '',
      /^AWS4-HMAC-SHA256 Credential=AKIAINKWELLTEST\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request/,
    )
  })

  test("the service's errors come back named", async () => {
    const missing = provider('inkwell/missing')
    const forged = provider('inkwell/prod', { accessKeyId: 'AKIAFORGED' })
    after(() => {
      missing.close()
      forged.close()
    })
    await assert.rejects(
      missing.fetch(NAMES),
      /ResourceNotFoundException: Secrets Manager can't find the specified secret/,
    )
    await assert.rejects(forged.fetch(NAMES), /UnrecognizedClientException/)
  })

  test('a SecretString that is not a JSON object is refused without quoting it', async () => {
    const value = 'plain-text-secret-3e9d'
    aws.put('inkwell/plain', value)
    aws.put('inkwell/array', JSON.stringify([value]))
    aws.put('inkwell/binary', undefined)
    for (const [id, reason] of [
      ['inkwell/plain', /is not valid JSON/],
      ['inkwell/array', /is not a JSON object/],
      ['inkwell/binary', /has no SecretString/],
    ] as const) {
      const p = provider(id)
      await assert.rejects(p.fetch(NAMES), (err: unknown) => {
        assert.ok(err instanceof SecretsProviderError)
        assert.match(err.message, reason)
        assert.ok(!err.message.includes(value))
        return true
      })
      p.close()
    }
  })

  test('an outage is an error', async () => {
    const p = provider('inkwell/prod')
    after(() => p.close())
    aws.control.failWith500 = true
    try {
      await assert.rejects(p.fetch(NAMES), /InternalServiceError/)
    } finally {
      aws.control.failWith500 = false
    }
    aws.setDown(true)
    try {
      await assert.rejects(p.fetch(NAMES), /GetSecretValue failed/)
    } finally {
      aws.setDown(false)
    }
  })

  test('a production configuration can take its secrets from AWS', async () => {
    const { SECRET_KEY, DATABASE_URL, ...rest } = productionEnv()
    aws.put('inkwell/app', JSON.stringify({ SECRET_KEY, DATABASE_URL }))
    const { config, sources, secrets } = await loadConfigWithSecrets(
      {
        ...rest,
        SECRETS_PROVIDER: 'aws',
        SECRETS_AWS_SECRET_ID: 'inkwell/app',
        SECRETS_AWS_REGION: REGION,
        SECRETS_AWS_ENDPOINT: aws.url,
      },
      NO_DOTENV,
      { awsCredentials: credentials },
    )
    secrets.close()
    assert.equal(config.SECRET_KEY, SECRET_KEY)
    assert.equal(sources.SECRET_KEY, 'secrets:aws')
    assert.equal(sources.DATABASE_URL, 'secrets:aws')
  })
})
