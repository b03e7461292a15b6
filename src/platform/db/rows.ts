/** Rows of `db.execute(...)`: node-postgres and PGlite both return `{ rows }`. */
export async function rowsOf<T>(result: Promise<unknown>): Promise<T[]> {
  return ((await result) as { rows: T[] }).rows
}
