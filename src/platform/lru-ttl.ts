/**
 * Options for an lru-cache whose entries carry a TTL.
 *
 * - `ttlAutopurge: false`: no timer per entry; a stale entry is dropped when it is read.
 * - `ttlResolution: 0`: staleness is judged against `performance.now()` on every read.
 *   The default (1 ms) caches the clock and starts a `setTimeout` to forget it, a timer
 *   per cache per millisecond that reads it: at low load one or more per request, each an
 *   async resource (and a request-scope propagation, see request-scope.ts). Reading the
 *   clock costs less than the timer.
 */
export const TTL_ENTRIES = { ttlAutopurge: false, ttlResolution: 0 } as const
