import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type SecretsProvider, SecretsProviderError } from './provider.ts'

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code ?? 'error'

/**
 * A directory with one file per setting (`<dir>/SECRET_KEY`), as Docker secrets and
 * Kubernetes secret volumes lay them out. Kubernetes rewrites the files in place on
 * rotation, so each fetch rereads them.
 */
export function createFileProvider(dir: string): SecretsProvider {
  return {
    kind: 'file',
    location: dir,
    async fetch(names) {
      // A missing directory means the volume is not mounted: an outage, not "no secrets".
      try {
        if (!(await stat(dir)).isDirectory()) throw new SecretsProviderError(`${dir} is not a directory`)
      } catch (err) {
        if (err instanceof SecretsProviderError) throw err
        throw new SecretsProviderError(`cannot read secrets directory ${dir} (${errno(err)})`)
      }
      const values: Record<string, string> = {}
      for (const name of names) {
        try {
          const value = (await readFile(join(dir, name), 'utf8')).trim()
          if (value !== '') values[name] = value
        } catch (err) {
          if (errno(err) === 'ENOENT') continue
          throw new SecretsProviderError(`cannot read ${join(dir, name)} (${errno(err)})`)
        }
      }
      return values
    },
    close() {},
  }
}
