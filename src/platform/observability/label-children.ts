/**
 * A metric's child per label set, made on first use. prom-client hashes the label
 * object on every `inc`/`observe` call with labels (sorting its keys); the hot path
 * looks its child up by a joined key instead. The set is bounded like the labels are.
 */
export function labelChildren<C>(make: (...values: string[]) => C): (...values: string[]) => C {
  const children = new Map<string, C>()
  return (...values) => {
    const key = values.join('\u0000')
    let child = children.get(key)
    if (child === undefined) {
      child = make(...values)
      children.set(key, child)
    }
    return child
  }
}
