import { createHmac, timingSafeEqual } from 'node:crypto'
import { AppError } from './errors.ts'

/**
 * Opaque, tamper-proof pagination cursors: base64url(JSON) + "." + HMAC-SHA256 of it
 * under SECRET_KEY, scoped by `purpose` so a cursor of one list is refused by another.
 */
export interface CursorCodec {
  encode(purpose: string, position: unknown): string
  decode<T>(purpose: string, cursor: string): T
}

export function createCursorCodec(secretKey: string): CursorCodec {
  const mac = (purpose: string, payload: string) =>
    createHmac('sha256', secretKey).update(`${purpose}\n${payload}`).digest('base64url')
  const invalid = () => new AppError('invalid_cursor', 'The cursor is not one this API issued for this list')
  return {
    encode(purpose, position) {
      const payload = Buffer.from(JSON.stringify(position)).toString('base64url')
      return `${payload}.${mac(purpose, payload)}`
    },
    decode<T>(purpose: string, cursor: string): T {
      const [payload, signature, extra] = cursor.split('.')
      if (!payload || !signature || extra !== undefined) throw invalid()
      const expected = Buffer.from(mac(purpose, payload))
      const given = Buffer.from(signature)
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid()
      try {
        return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as T
      } catch {
        throw invalid()
      }
    },
  }
}
