import type { JwksLoader } from '../../../src/platform/auth/jwks-source.ts'
import { createKeyStore, type KeyStoreOptions } from '../../../src/platform/auth/key-store.ts'
import type { FetchOutcome } from '../../../src/platform/auth/observer.ts'

/** A loader whose answer the test sets: a document, a failure, or a hang until aborted. */
export function fakeLoader(document: object) {
  let next: object | 'fail' | 'hang' = document
  const state = { calls: 0 }
  const load: JwksLoader = async (signal) => {
    state.calls++
    if (next === 'fail') throw new Error('connection refused')
    if (next === 'hang')
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    return next
  }
  return {
    load,
    get calls() {
      return state.calls
    },
    answer(value: object | 'fail' | 'hang') {
      next = value
    },
  }
}

export const silentLog = { info() {}, warn() {}, debug() {} }

/** A key store on a hand-driven clock; `outcomes` records every fetch it reports. */
export function storeWith(load: JwksLoader, overrides: Partial<KeyStoreOptions> = {}) {
  const clock = { now: 1_000_000 }
  const outcomes: FetchOutcome[] = []
  const removed: string[] = []
  const store = createKeyStore({
    load,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    cacheS: 600,
    cooldownS: 30,
    timeoutMs: 1000,
    maxStaleS: 3600,
    log: silentLog,
    observer: { fetched: (outcome) => outcomes.push(outcome) },
    onKeysRemoved: (ids) => removed.push(...ids),
    now: () => clock.now,
    ...overrides,
  })
  return {
    store,
    outcomes,
    removed,
    advance(seconds: number) {
      clock.now += seconds * 1000
    },
  }
}
