import { randomUUID } from 'node:crypto'
import { listen, sendJson } from './http.ts'

const JSON_11 = { 'content-type': 'application/x-amz-json-1.1' }

/**
 * Speaks AWS Secrets Manager's JSON 1.1 protocol for GetSecretValue, as the real
 * SDK sends it: `POST /` with `X-Amz-Target: secretsmanager.GetSecretValue` and a
 * SigV4 `Authorization` header, which is checked for the expected access key and
 * credential scope. Errors carry `__type` like the real service.
 */
export async function startAwsStandIn(options: { accessKeyId: string; region: string }) {
  const secrets = new Map<string, { value: string | undefined; versionId: string }>()
  const log = { calls: 0, authorizations: [] as string[] }
  const control = { failWith500: false }
  const fail = (res: Parameters<typeof sendJson>[0], status: number, type: string, message: string) =>
    sendJson(res, status, { __type: type, message }, { ...JSON_11, 'x-amzn-errortype': type })

  const server = await listen((req, body, res) => {
    log.calls++
    const auth = String(req.headers.authorization ?? '')
    log.authorizations.push(auth)
    const scope = `Credential=${options.accessKeyId}/`
    if (
      !auth.startsWith('AWS4-HMAC-SHA256 ') ||
      !auth.includes(scope) ||
      !auth.includes(`/${options.region}/secretsmanager/aws4_request`)
    )
      return fail(
        res,
        400,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      )
    if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue')
      return fail(res, 400, 'InvalidRequestException', 'Unsupported operation')
    if (control.failWith500)
      return fail(res, 500, 'InternalServiceError', 'An error occurred on the server side.')
    const { SecretId } = JSON.parse(body) as { SecretId: string }
    const secret = secrets.get(SecretId)
    if (!secret)
      return fail(res, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.")
    sendJson(
      res,
      200,
      {
        ARN: `arn:aws:secretsmanager:${options.region}:123456789012:secret:${SecretId}-AbCdEf`,
        Name: SecretId,
        VersionId: secret.versionId,
        ...(secret.value === undefined ? { SecretBinary: 'AAEC' } : { SecretString: secret.value }),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      },
      JSON_11,
    )
  })

  return {
    url: server.url,
    log,
    control,
    /** PutSecretValue: a new AWSCURRENT version (`undefined` stores a binary secret). */
    put(secretId: string, value: string | undefined) {
      secrets.set(secretId, { value, versionId: randomUUID() })
    },
    setDown(down: boolean) {
      server.state.down = down
    },
    close: server.close,
  }
}
