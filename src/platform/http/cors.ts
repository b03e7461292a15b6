import { listSetting } from '../../config/network.ts'
import type { Config } from '../../config/schema.ts'

const LOCALHOST_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/

/** CORS_ORIGINS only; development also admits any localhost origin. */
export function corsOriginPolicy(config: Readonly<Config>) {
  const allowed = new Set(listSetting(config.CORS_ORIGINS))
  const allowLocalhost = config.NODE_ENV !== 'production'
  return (origin: string | undefined, callback: (err: Error | null, allow: boolean) => void) => {
    callback(
      null,
      origin !== undefined && (allowed.has(origin) || (allowLocalhost && LOCALHOST_ORIGIN.test(origin))),
    )
  }
}
