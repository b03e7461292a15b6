import { createHmac, createPublicKey, randomUUID } from 'node:crypto'
import { CompactSign } from 'jose'
import { AUDIENCE, b64url, ISSUER, makeKey, sign, type TestKey } from './tokens.ts'

export interface Attack {
  name: string
  token: string
  /** The refusal code expected: every attack is a 401, `token_expired` only for the expired one. */
  code: 'invalid_token' | 'token_expired'
  subject: string
}

const forge = (header: object, payload: object, signature = '') =>
  `${b64url(header)}.${b64url(payload)}.${signature}`

const hmac = (secret: string | Buffer, header: object, payload: object) => {
  const input = `${b64url(header)}.${b64url(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/**
 * Every token here is refused. `attacker` is a key the provider never published;
 * `jkuUrl` is a server the verifier must never contact.
 */
export async function buildAttacks(keys: { rsa: TestKey; ec: TestKey }, jkuUrl: string): Promise<Attack[]> {
  const attacker = await makeKey('RS256')
  const run = randomUUID().slice(0, 8)
  const now = Math.floor(Date.now() / 1000)
  const claims = (subject: string, extra: object = {}) => ({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: subject,
    iat: now,
    exp: now + 3600,
    ...extra,
  })
  // The classic key confusion: the RSA public key, as PEM or JWK text, used as an HMAC secret.
  const pem = createPublicKey({ key: keys.rsa.jwk as never, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  })
  const cases: Array<[string, (subject: string) => string | Promise<string>, Attack['code']?]> = [
    ['alg-none', (s) => forge({ alg: 'none', typ: 'JWT' }, claims(s))],
    ['alg-None-with-kid', (s) => forge({ alg: 'None', kid: keys.rsa.kid }, claims(s))],
    ['hs256-with-rsa-public-key-pem', (s) => hmac(pem, { alg: 'HS256', kid: keys.rsa.kid }, claims(s))],
    [
      'hs256-with-rsa-public-jwk',
      (s) => hmac(JSON.stringify(keys.rsa.jwk), { alg: 'HS256', kid: keys.rsa.kid }, claims(s)),
    ],
    ['embedded-jwk', (s) => sign(attacker, { subject: s, header: { kid: undefined, jwk: attacker.jwk } })],
    [
      'embedded-jwk-with-our-kid',
      async (s) => sign(attacker, { subject: s, header: { kid: keys.rsa.kid, jwk: attacker.jwk } }),
    ],
    ['jku-elsewhere', (s) => sign(attacker, { subject: s, header: { jku: `${jkuUrl}/jwks.json` } })],
    [
      'jku-with-our-kid',
      (s) => sign(attacker, { subject: s, header: { kid: keys.rsa.kid, jku: `${jkuUrl}/jwks.json` } }),
    ],
    ['x5u-elsewhere', (s) => sign(attacker, { subject: s, header: { x5u: `${jkuUrl}/cert.pem` } })],
    [
      'x5c-embedded',
      (s) => sign(attacker, { subject: s, header: { kid: keys.rsa.kid, x5c: ['MIIBIjANBgkqh'] } }),
    ],
    [
      'kid-path-traversal-hs256',
      (s) => hmac('', { alg: 'HS256', kid: '../../../../../../dev/null' }, claims(s)),
    ],
    ['kid-path-traversal', (s) => sign(attacker, { subject: s, header: { kid: '../../../../etc/passwd' } })],
    [
      'kid-sql-injection',
      (s) => sign(attacker, { subject: s, header: { kid: "x' UNION SELECT 'secret' --" } }),
    ],
    [
      'ecdsa-r-s-zero',
      (s) => forge({ alg: 'ES256', kid: keys.ec.kid }, claims(s), b64url(new Uint8Array(64))),
    ],
    [
      'stripped-signature',
      async (s) => `${(await sign(keys.rsa, { subject: s })).split('.').slice(0, 2).join('.')}.`,
    ],
    [
      'signature-of-another-token',
      async (s) => {
        const [h, p] = (await sign(keys.rsa, { subject: s })).split('.')
        return `${h}.${p}.${(await sign(keys.rsa)).split('.')[2]}`
      },
    ],
    ['attacker-key-with-our-kid', (s) => sign({ ...attacker, kid: keys.rsa.kid }, { subject: s })],
    ['rs256-header-on-ec-key', (s) => sign({ ...attacker, kid: keys.ec.kid }, { subject: s })],
    ['expired', (s) => sign(keys.rsa, { subject: s, expiresIn: -3600 }), 'token_expired'],
    ['nbf-in-future', (s) => sign(keys.rsa, { subject: s, claims: { nbf: now + 3600 } })],
    ['iat-in-future', (s) => sign(keys.rsa, { subject: s, claims: { iat: now + 600 }, expiresIn: 7200 })],
    ['no-exp', (s) => sign(keys.rsa, { subject: s, expiresIn: null })],
    [
      'exp-not-a-number',
      (s) => sign(keys.rsa, { subject: s, claims: { exp: 'tomorrow' } as never, expiresIn: null }),
    ],
    ['wrong-iss', (s) => sign(keys.rsa, { subject: s, issuer: 'https://evil.example/' })],
    ['wrong-aud', (s) => sign(keys.rsa, { subject: s, audience: 'another-api' })],
    ['aud-array-without-ours', (s) => sign(keys.rsa, { subject: s, audience: ['another-api', 'third-api'] })],
    ['oversize', (s) => sign(keys.rsa, { subject: s, claims: { pad: 'x'.repeat(9000) } })],
    ['broken-base64-characters', (s) => forge({ alg: 'RS256' }, claims(s), 'sig').replace(/^.{4}/, '!!*$')],
    ['broken-base64-length', async (s) => impossibleLength(await sign(keys.rsa, { subject: s }))],
    ['payload-not-json', async () => signRaw(keys.rsa, {}, 'not json {')],
    ['payload-json-array', async () => signRaw(keys.rsa, {}, '["sub"]')],
    [
      'header-not-json',
      async (s) => `bm90IGpzb24.${(await sign(keys.rsa, { subject: s })).split('.').slice(1).join('.')}`,
    ],
    [
      'unknown-crit-header',
      async (s) => signRaw(keys.rsa, { crit: ['x-inkwell'], 'x-inkwell': true }, JSON.stringify(claims(s))),
    ],
    ['five-segment-jwe', async (s) => `${await sign(keys.rsa, { subject: s })}.e30.e30`],
    [
      'no-sub',
      async () => signRaw(keys.rsa, {}, JSON.stringify({ iss: ISSUER, aud: AUDIENCE, exp: now + 3600 })),
    ],
  ]
  const attacks: Attack[] = []
  for (const [name, make, code = 'invalid_token'] of cases) {
    const subject = `attack-${run}-${name}`
    attacks.push({ name, code, subject, token: await make(subject) })
  }
  return attacks
}

/** Pads the payload segment to a length no base64 encoding can have (1 mod 4). */
function impossibleLength(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const pad = (((1 - payload.length) % 4) + 4) % 4 || 4
  return `${header}.${payload}${'A'.repeat(pad)}.${signature}`
}

/** Signs arbitrary payload bytes with a real published key: only the content is wrong. */
function signRaw(key: TestKey, header: Record<string, unknown>, payload: string): Promise<string> {
  const crit = Array.isArray(header.crit)
    ? Object.fromEntries(header.crit.map((c: string) => [c, true]))
    : undefined
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey, crit ? { crit } : undefined)
}
