import { parseArgs } from 'node:util'
import { generateSecretKey, MIN_SECRET_KEY_BYTES } from '../config/secret-key.ts'

export const SECRET_USAGE = `usage:
  inkwell secret generate [--bytes N]
      print a strong key for SECRET_KEY: N (default and minimum ${MIN_SECRET_KEY_BYTES}) random bytes, base64url
`

/** `inkwell secret generate`; returns the exit code. */
export function runSecretCommand(args: string[]): number {
  const [sub, ...rest] = args
  if (sub !== 'generate') {
    process.stderr.write(SECRET_USAGE)
    return 2
  }
  const { values } = parseArgs({ args: rest, options: { bytes: { type: 'string' } } })
  const bytes = values.bytes === undefined ? MIN_SECRET_KEY_BYTES : Number(values.bytes)
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_KEY_BYTES || bytes > 1024) {
    process.stderr.write(
      `secret generate: --bytes must be a whole number from ${MIN_SECRET_KEY_BYTES} to 1024\n`,
    )
    return 2
  }
  process.stdout.write(`${generateSecretKey(bytes)}\n`)
  return 0
}
