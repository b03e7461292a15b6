import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..', '..', '..')
const tsx = import.meta.resolve('tsx')

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `inkwell <args>` (src/cli/main.ts) in `cwd` with exactly `env`, so neither the
 * repository's .env nor the test run's variables leak in. Asynchronous, so a stand-in
 * server in this process can answer the child.
 */
export async function runInkwell(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'src/cli/main.ts'), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', TMPDIR: process.env.TMPDIR ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const [status] = (await once(child, 'close')) as [number | null]
  return { status, stdout, stderr }
}
