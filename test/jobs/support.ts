import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'

/** Polls until `probe` returns a value (not undefined/false), within a bounded deadline. */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  limitMs = 30_000,
): Promise<T> {
  const until = performance.now() + limitMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (performance.now() > until) assert.fail(`timed out waiting for ${what}`)
    await sleep(50)
  }
}
