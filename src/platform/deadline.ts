/**
 * A point after which work must stop: a request's deadline, or a probe's timeout.
 *
 * Every request gets one, so it is cheaper than an AbortController: Node's
 * EventTarget makes creating a signal and adding or removing a listener costly,
 * and most requests never abort. An AbortSignal, for `fetch` and other APIs that
 * take one, is made only when asked for.
 */
export class Deadline {
  #aborted = false
  #reason: unknown
  /** Subscribers in order; an unsubscribed one leaves a hole (undefined) behind. */
  #callbacks: Array<(() => void) | undefined> | undefined
  #controller: AbortController | undefined

  /** A deadline that follows `signal` (already aborted if it is). */
  static from(signal: AbortSignal): Deadline {
    const deadline = new Deadline()
    if (signal.aborted) deadline.abort(signal.reason)
    else signal.addEventListener('abort', () => deadline.abort(signal.reason), { once: true })
    return deadline
  }

  get aborted(): boolean {
    return this.#aborted
  }

  get reason(): unknown {
    return this.#reason
  }

  /** Aborts once; later calls are ignored. Callbacks run in the order they were added. */
  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    const callbacks = this.#callbacks
    this.#callbacks = undefined
    if (callbacks) for (const run of callbacks) run?.()
    this.#controller?.abort(reason)
  }

  throwIfAborted(): void {
    if (this.#aborted) throw this.#reason
  }

  /** Runs `callback` when the deadline aborts (never if it already has). Returns the unsubscribe. */
  onAbort(callback: () => void): () => void {
    if (this.#aborted) return noop
    this.#callbacks ??= []
    const callbacks = this.#callbacks
    const index = callbacks.push(callback) - 1
    // A request subscribes a few times (a statement's checkout, then its connection);
    // an array with holes is cheaper than a Set, which hashes each closure.
    return () => {
      callbacks[index] = undefined
    }
  }

  /** An AbortSignal that aborts with this deadline; made on first use. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }
}

function noop() {}
