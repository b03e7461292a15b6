import { randomFillSync } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { V7Generator } from 'uuidv7'

const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Random numbers for request ids, drawn from the CSPRNG 4 KiB at a time. uuidv7's
 * default source draws 32 bytes per call through Web Crypto, which cost about 1.4 µs
 * of every request (a few percent of a health probe's CPU).
 */
class PooledRandom {
  readonly #pool = new Uint32Array(1024)
  #next = this.#pool.length

  nextUint32(): number {
    if (this.#next === this.#pool.length) {
      randomFillSync(this.#pool)
      this.#next = 0
    }
    return this.#pool[this.#next++]!
  }
}

/** UUIDv7s, time-ordered and increasing within the process (uuidv7's own generator). */
const ids = new V7Generator(new PooledRandom())

const hex = Buffer.alloc(16)

/**
 * The id in its 8-4-4-4-12 form. uuidv7's own toString appends 36 characters one at a
 * time (about 1 µs a request); Node's hex encoder and four slices do the same work natively.
 */
export function newRequestId(): string {
  hex.set(ids.generate().bytes)
  const h = hex.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** Accepts a caller's X-Request-Id when well-formed (log-safe), else makes one. */
export function requestIdFrom(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && WELL_FORMED.test(given) ? given : newRequestId()
}
