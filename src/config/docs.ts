import { PRODUCTION_RULES } from './production.ts'
import { describeType, type SettingInfo, settingInfo, settingNames } from './settings.ts'

/** Markdown table cells cannot hold pipes or line breaks. */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

/** A table with padded columns, as Biome formats Markdown, so the generated file passes lint. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

function defaultOf(info: SettingInfo): string {
  if (info.default === undefined) return '—'
  if (info.default === '') return '(empty)'
  return `\`${String(info.default)}\``
}

function row(info: SettingInfo): string[] {
  const examples = (info.schema.examples as unknown[] | undefined) ?? []
  const example = examples.length > 0 ? ` Example: \`${String(examples[0])}\`.` : ''
  const type = cell(describeType(info.schema))
  return [
    `\`${info.name}\``,
    type,
    defaultOf(info),
    info.secret ? 'yes' : '',
    cell(info.description + example),
  ]
}

const HEADER = `# Configuration

<!-- Generated from src/config/schema.ts by \`npm run --silent inkwell -- config docs > docs/configuration.md\`.
     Do not edit by hand: a test fails when this file differs from the schema. -->

Inkwell reads every setting once at startup, validates all of them together, and
refuses to start (exit code 78) with one message naming every bad setting; secret
values are never printed. \`npm run inkwell -- config check\` shows the effective
configuration, where each value came from, and what production would refuse.

Sources, later wins:

1. the default below;
2. \`.env\` in the working directory (not when \`NODE_ENV=production\`);
3. the environment variable \`NAME\`;
4. \`NAME_FILE\`: the contents of that file (Docker and Kubernetes secrets);
5. for **secret** settings, the secrets provider (\`SECRETS_PROVIDER\`); see [secrets.md](secrets.md).
   The \`SECRETS_*\` settings configure the provider and never come from it.

An empty value counts as unset. A provider that cannot be reached at startup after
\`SECRETS_STARTUP_ATTEMPTS\` stops startup with exit code 69.
`

function productionSection(): string {
  const rows = PRODUCTION_RULES.map((r) => [`\`${r.setting}: ${r.code}\``, cell(r.rule)])
  return `## Production checks

With \`NODE_ENV=production\`, Inkwell refuses to start on any of these, all reported at
once, each under its stable name. In development a weak \`SECRET_KEY\` is accepted
with a warning.

${table(['Error', 'Rule'], rows)}
`
}

/** docs/configuration.md, generated from the schema so it cannot drift from the code. */
export function renderConfigDocs(): string {
  const rows = settingNames.map((name) => row(settingInfo(name)))
  return `${HEADER}
## Settings

${table(['Setting', 'Type', 'Default', 'Secret', 'Description'], rows)}

${productionSection()}`
}
