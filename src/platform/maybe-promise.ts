/**
 * A value now, or a promise of it later. Hot paths that usually answer from memory (a
 * verified token, a known profile id, a rate-limit token already leased) return the
 * value itself: a promise and its microtask cost more than the lookup, and more again
 * while a request scope's async hooks are in use.
 */
export type MaybePromise<T> = T | Promise<T>

export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}
