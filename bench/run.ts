// Load scenarios, run by hand (never in CI): `npm run bench -- <scenario> [options]`.
const scenarios: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  auth: () => import('./auth.ts'),
  cache: () => import('./cache.ts'),
  db: () => import('./db.ts'),
  instructions: () => import('./instructions.ts'),
  profile: () => import('./profile.ts'),
  jobs: () => import('./jobs.ts'),
  pagination: () => import('./pagination.ts'),
}

const [name = '', ...args] = process.argv.slice(2)
const load = scenarios[name]
if (!load) {
  process.stderr.write(
    `usage: npm run bench -- <scenario> [options]\nscenarios: ${Object.keys(scenarios).join(', ')}\n`,
  )
  process.exit(2)
}
await (await load()).run(args)
