import { parseArgs } from 'node:util'
import { type EffectiveSetting, effectiveSettings } from '../config/describe.ts'
import { renderConfigDocs } from '../config/docs.ts'
import { EXIT_CONFIG, EXIT_UNAVAILABLE, formatIssue } from '../config/issues.ts'
import type { Evaluation } from '../config/load.ts'
import { evaluateWithSecrets } from '../config/load-with-secrets.ts'
import { SecretsUnavailableError } from '../config/secrets/index.ts'

export const CONFIG_USAGE = `usage:
  inkwell config check [--production] [--json]
      effective configuration (secrets redacted) and the source of each value;
      exits 78 when a setting is invalid or, in production, unsafe
      --production  judge it as NODE_ENV=production would
  inkwell config docs
      print docs/configuration.md, generated from the schema
`

function table(settings: EffectiveSetting[]): string {
  const width = Math.max(...settings.map((s) => s.name.length))
  const valueWidth = Math.min(48, Math.max(...settings.map((s) => s.value.length)))
  return settings
    .map((s) => `  ${s.name.padEnd(width)}  ${s.value.padEnd(valueWidth)}  ${s.source}`)
    .join('\n')
}

function report(evaluation: Evaluation): string {
  const { config, sources, issues, warnings } = evaluation
  const lines = [
    `Effective configuration (NODE_ENV=${config.NODE_ENV}):`,
    table(effectiveSettings(config, sources)),
    '',
  ]
  if (issues.length > 0) lines.push('Refused:', ...issues.map((i) => `  - ${formatIssue(i)}`))
  else lines.push(config.NODE_ENV === 'production' ? 'Production checks: passed' : 'Valid')
  if (warnings.length > 0) lines.push('Warnings:', ...warnings.map((w) => `  - ${formatIssue(w)}`))
  return `${lines.join('\n')}\n`
}

function asJson(evaluation: Evaluation): string {
  const { config, sources, issues, warnings } = evaluation
  const settings = effectiveSettings(config, sources)
  return `${JSON.stringify({ nodeEnv: config.NODE_ENV, ok: issues.length === 0, settings, issues, warnings }, null, 2)}\n`
}

async function check(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { production: { type: 'boolean' }, json: { type: 'boolean' } },
  })
  const env = values.production ? { ...process.env, NODE_ENV: 'production' } : process.env
  let evaluation: Awaited<ReturnType<typeof evaluateWithSecrets>>
  try {
    evaluation = await evaluateWithSecrets(env, '.env')
  } catch (err) {
    if (!(err instanceof SecretsUnavailableError)) throw err
    process.stderr.write(`config check: ${err.message}\n`)
    return EXIT_UNAVAILABLE
  }
  evaluation.secrets?.close()
  process.stdout.write(values.json ? asJson(evaluation) : report(evaluation))
  return evaluation.issues.length > 0 ? EXIT_CONFIG : 0
}

/** `inkwell config <check|docs>`; returns the exit code. */
export async function runConfigCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === 'check') return check(rest)
  if (sub === 'docs') {
    process.stdout.write(renderConfigDocs())
    return 0
  }
  process.stderr.write(CONFIG_USAGE)
  return 2
}
