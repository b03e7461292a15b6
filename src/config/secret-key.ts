import { randomBytes } from 'node:crypto'
import type { ConfigIssue } from './issues.ts'

/** The value shown in the docs' configuration table; refused like any other placeholder. */
export const SECRET_KEY_PLACEHOLDER = 'replace-me-with-npm-run-inkwell-secret-generate'
export const MIN_SECRET_KEY_BYTES = 32
/** Below this estimate a key is guessable whatever its length. 32 random hex digits score ~115. */
const MIN_ESTIMATED_BITS = 96
const MIN_DISTINCT_CHARS = 8
const MIN_BITS_PER_CHAR = 3

const EXACT_PLACEHOLDERS = new Set([
  'changeme',
  'secret',
  'secretkey',
  'secret-key',
  'secret_key',
  'mysecret',
  'supersecret',
  'password',
  'passw0rd',
  'default',
  'keyboard cat',
  SECRET_KEY_PLACEHOLDER,
])
const PLACEHOLDER_FRAGMENTS = [
  'changeme',
  'change-me',
  'change_me',
  'changethis',
  'change-this',
  'replace-me',
  'replace_me',
  'replaceme',
  'placeholder',
  'your-secret',
  'your_secret',
  'yoursecret',
  'insecure',
  'example',
  'keyboard cat',
]

export function isPlaceholder(key: string): boolean {
  const k = key.trim().toLowerCase()
  return EXACT_PLACEHOLDERS.has(k) || PLACEHOLDER_FRAGMENTS.some((f) => k.includes(f))
}

/** Shannon entropy of the character distribution, in bits per character. */
export function shannonBitsPerChar(text: string): number {
  const counts = new Map<string, number>()
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  const length = [...text].length
  let bits = 0
  for (const n of counts.values()) bits -= (n / length) * Math.log2(n / length)
  return bits
}

/** The shortest period of a string made of one repeated unit ("abcabcab" → 3), or 0. */
function repeatPeriod(chars: string[]): number {
  for (let p = 1; p <= chars.length / 2; p++) if (chars.every((c, i) => i < p || c === chars[i - p])) return p
  return 0
}

/** Share of neighbouring characters that are equal or consecutive ("abcd", "4321", "aaaa"). */
function sequentialShare(chars: string[]): number {
  let sequential = 0
  for (let i = 1; i < chars.length; i++)
    if (Math.abs(chars[i]!.codePointAt(0)! - chars[i - 1]!.codePointAt(0)!) <= 1) sequential++
  return chars.length > 1 ? sequential / (chars.length - 1) : 1
}

/**
 * Words people build keys from ("development-secret-key-do-not-use…",
 * "supersecretkey1234"). Character statistics rate such a key as random; stripped of
 * these words and of keyboard runs, what is left is small.
 */
const KEY_WORDS = [
  'secret',
  'password',
  'passwd',
  'passphrase',
  'default',
  'develop',
  'development',
  'production',
  'prod',
  'staging',
  'local',
  'localhost',
  'please',
  'change',
  'changed',
  'super',
  'insecure',
  'unsafe',
  'secure',
  'sample',
  'example',
  'test',
  'testing',
  'demo',
  'inkwell',
  'django',
  'flask',
  'rails',
  'laravel',
  'express',
  'node',
  'session',
  'token',
  'signing',
  'cookie',
  'private',
  'public',
  'admin',
  'welcome',
  'letmein',
  'master',
  'this',
  'that',
  'your',
  'mine',
  'key',
  'keys',
  'long',
  'enough',
  'very',
  'really',
  'strong',
  'random',
  'string',
  'dont',
  'not',
  'never',
  'use',
  'only',
  'for',
  'with',
  'the',
  'and',
  'here',
  'goes',
  'now',
  'app',
  'application',
  'server',
  'api',
  'jwt',
  'hmac',
  'salt',
  'value',
  'my',
].sort((a, b) => b.length - a.length)
const KEYBOARD_ROWS = ['qwertyuiop', 'asdfghjkl', 'zxcvbnm', '1234567890', 'abcdefghijklmnopqrstuvwxyz']
/** What a stripped piece costs an attacker, in bits: a word of the list above (about 2^7 words), a keyboard run. */
const BITS_PER_WORD = 7
const BITS_PER_RUN = 6
/** Shorter runs occur by chance in random hex ("9876"). */
const MIN_RUN = 5

/** The key with known words and keyboard runs cut out, and the bits those pieces are worth. */
function stripGuessablePieces(key: string): { rest: string; pieceBits: number } {
  let rest = key.toLowerCase()
  let pieceBits = 0
  for (const row of KEYBOARD_ROWS)
    for (const line of [row, [...row].reverse().join('')])
      for (let length = line.length; length >= MIN_RUN; length--)
        for (let start = 0; start + length <= line.length; start++) {
          const run = line.slice(start, start + length)
          while (rest.includes(run)) {
            rest = rest.replace(run, ' ')
            pieceBits += BITS_PER_RUN
          }
        }
  for (const word of KEY_WORDS)
    while (rest.includes(word)) {
      rest = rest.replace(word, ' ')
      pieceBits += BITS_PER_WORD
    }
  return { rest: rest.replace(/[\s_.:-]+/g, ''), pieceBits }
}

/** Why a key is guessable, or undefined when it looks random enough. */
export function lowEntropyReason(key: string): string | undefined {
  const chars = [...key]
  const distinct = new Set(chars).size
  const perChar = shannonBitsPerChar(key)
  const period = repeatPeriod(chars)
  if (period > 0) return `it repeats a ${period}-character pattern`
  if (distinct < MIN_DISTINCT_CHARS) return `it uses only ${distinct} distinct characters`
  if (perChar < MIN_BITS_PER_CHAR) return `its characters carry ${perChar.toFixed(1)} bits each`
  if (sequentialShare(chars) > 0.5) return 'it is mostly runs of consecutive characters'
  const total = perChar * chars.length
  if (total < MIN_ESTIMATED_BITS)
    return `about ${Math.round(total)} bits of entropy (need ${MIN_ESTIMATED_BITS})`
  const { rest, pieceBits } = stripGuessablePieces(key)
  const restChars = [...rest]
  const wordsAndRuns = pieceBits + shannonBitsPerChar(rest) * restChars.length
  if (wordsAndRuns < MIN_ESTIMATED_BITS)
    return `it is made of common words or keyboard runs (about ${Math.round(wordsAndRuns)} bits; need ${MIN_ESTIMATED_BITS})`
  return undefined
}

const FIX = 'generate one with `npm run inkwell -- secret generate`'

/** Every weakness of SECRET_KEY at once (production refuses them; development warns). */
export function checkSecretKey(key: string | undefined): ConfigIssue[] {
  const setting = 'SECRET_KEY'
  if (!key) return [{ setting, code: 'missing', detail: `required in production; ${FIX}` }]
  const issues: ConfigIssue[] = []
  const bytes = Buffer.byteLength(key)
  if (bytes < MIN_SECRET_KEY_BYTES)
    issues.push({
      setting,
      code: 'too_short',
      detail: `${bytes} bytes, at least ${MIN_SECRET_KEY_BYTES} needed; ${FIX}`,
    })
  if (isPlaceholder(key))
    issues.push({ setting, code: 'placeholder', detail: `it is a known example value; ${FIX}` })
  const reason = lowEntropyReason(key)
  if (reason) issues.push({ setting, code: 'low_entropy', detail: `${reason}; ${FIX}` })
  return issues
}

/** A strong key: `bytes` (≥ 32) random bytes, base64url-encoded. */
export function generateSecretKey(bytes = MIN_SECRET_KEY_BYTES): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_KEY_BYTES)
    throw new RangeError(`a secret key needs at least ${MIN_SECRET_KEY_BYTES} bytes`)
  return randomBytes(bytes).toString('base64url')
}
