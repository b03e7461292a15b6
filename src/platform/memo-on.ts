/**
 * A value derived from an object, computed once and kept on the object itself, under a
 * non-enumerable symbol (so JSON, spreads and Object.keys never see it).
 *
 * In place of a WeakMap keyed by objects that are made per request (a story row read
 * from the database). Measured with such a WeakMap (itself long-lived, so in the old
 * generation): the values outlived their young keys through scavenges, were promoted,
 * and were freed only by a full collection; with the database read at load that was much
 * of what the GC copied (docs/database.md, "GC: what outlived its request"). Kept on the
 * object, the value lives and dies with it.
 */
export function memoOn<K extends object, V>(key: K, slot: symbol, compute: (key: K) => V): V {
  const holder = key as Record<symbol, V | undefined>
  let value = holder[slot]
  if (value === undefined) {
    value = compute(key)
    Object.defineProperty(key, slot, { value, writable: true, enumerable: false, configurable: true })
  }
  return value
}
