import type { LoggerOptions } from 'pino'
import { secretSettingNames } from '../../config/settings.ts'

/** Paths pino replaces with "[redacted]" wherever they appear in a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
  // Every setting the schema marks secret (SECRET_KEY, DATABASE_URL, REDIS_URL, …).
  ...secretSettingNames.map((name) => `*.${name}`),
]

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
  }
}
