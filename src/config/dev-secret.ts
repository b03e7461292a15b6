import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from './schema.ts'

/**
 * Development only: a missing SECRET_KEY is generated once and kept in DATA_DIR,
 * so cursors stay valid across restarts. Production refuses to start without one.
 */
export function withDevSecretKey(config: Readonly<Config>): Readonly<Config> {
  if (config.SECRET_KEY || config.NODE_ENV === 'production') return config
  const path = join(config.DATA_DIR, 'secret-key')
  let key: string
  try {
    key = readFileSync(path, 'utf8').trim()
  } catch {
    mkdirSync(config.DATA_DIR, { recursive: true })
    try {
      writeFileSync(path, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    key = readFileSync(path, 'utf8').trim()
  }
  return Object.freeze({ ...config, SECRET_KEY: key })
}
