import { type Static, Type } from 'typebox'

/**
 * Every setting Inkwell reads, in one place: name, type, default, description, and
 * `secret` (never printed, resolved through the secrets provider).
 * Values arrive as strings from the environment and are coerced by ajv.
 */
const secret = { secret: true } as const

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
    description: 'Runtime profile. `production` turns on the strict checks.',
  }),
  HOST: Type.String({ default: '127.0.0.1', description: 'Interface the HTTP server binds to.' }),
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 8080,
    description: 'HTTP port (0 = any free port).',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level.' },
  ),
  DATA_DIR: Type.String({
    default: './data',
    description: 'Embedded mode: PGlite database, dev IdP key and generated secret key live here.',
  }),
  DATABASE_URL: Type.Optional(
    Type.String({
      pattern: '^postgres(ql)?://',
      description: 'PostgreSQL URL. Unset: the embedded PGlite database under DATA_DIR.',
      ...secret,
    }),
  ),
  DATABASE_DIRECT_URL: Type.Optional(
    Type.String({
      pattern: '^postgres(ql)?://',
      description:
        'URL used by migrations, straight to PostgreSQL (not through pgbouncer). Default: DATABASE_URL.',
      ...secret,
    }),
  ),
  DATABASE_APP_ROLE: Type.String({
    pattern: '^[a-z_][a-z0-9_]{0,62}$',
    default: 'inkwell_app',
    description:
      'PostgreSQL role the API and workers connect as (DATABASE_URL). `inkwell migrate` grants it its privileges (append-only on the audit tables) whenever it exists; `inkwell db grant` does so on demand. See docs/database.md.',
  }),
  DATABASE_SSL: Type.Optional(
    Type.Union([Type.Literal('disable'), Type.Literal('require'), Type.Literal('verify-full')], {
      description:
        'TLS to PostgreSQL, overriding `sslmode` in the URL: `verify-full` (encrypted, certificate and host checked), `require` (encrypted, certificate not checked), `disable` (no TLS required; production then accepts a plain connection). Unset: the URL decides.',
    }),
  ),
  ALLOW_EMBEDDED_DB: Type.Boolean({
    default: false,
    description: 'Production only: accept the embedded PGlite database when DATABASE_URL is unset.',
  }),
  DB_POOL_MAX: Type.Integer({
    minimum: 1,
    maximum: 500,
    default: 10,
    description: 'Connections per API process.',
  }),
  DB_CONNECT_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 60000,
    default: 2000,
    description:
      'Longest wait for a pool connection (opening one, or queueing for a busy pool); past it the request gets a 503 with Retry-After.',
  }),
  DB_IDLE_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    maximum: 3600000,
    default: 30000,
    description: 'An idle pool connection is closed after this long.',
  }),
  DB_MAX_LIFETIME_S: Type.Integer({
    minimum: 0,
    maximum: 86400,
    default: 1800,
    description:
      'A pool connection is retired after this long (0 = never), so rotated passwords and failovers reach every connection.',
  }),
  DB_STATEMENT_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    maximum: 3600000,
    default: 15000,
    description:
      'Server-side `statement_timeout` of API connections (0 = none). Sent as a startup parameter; behind pgbouncer set it on the role instead (docs/database.md).',
  }),
  DB_IDLE_IN_TX_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    maximum: 3600000,
    default: 10000,
    description: 'Server-side `idle_in_transaction_session_timeout` of API connections (0 = none).',
  }),
  DB_APPLICATION_NAME: Type.String({
    default: 'inkwell',
    maxLength: 63,
    description: '`application_name` of API connections, as seen in pg_stat_activity.',
  }),
  DB_STARTUP_PARAMETERS: Type.Boolean({
    default: true,
    description:
      'Send statement and idle-in-transaction timeouts as connection startup parameters. Set false behind a pgbouncer that refuses them, and set them with ALTER ROLE.',
  }),
  DB_PREPARED_STATEMENTS: Type.Boolean({
    default: true,
    description:
      'Run hot queries as named prepared statements (about 2x throughput). Set false behind pgbouncer < 1.21 in transaction pooling mode.',
  }),
  DB_SLOW_QUERY_MS: Type.Integer({
    minimum: 0,
    maximum: 600000,
    default: 500,
    description: 'Statements slower than this are logged with duration and SQL text (0 = off).',
  }),
  DATABASE_READ_URL: Type.Optional(
    Type.String({
      pattern: '^postgres(ql)?://',
      description:
        'A read replica for list and trending queries; falls back to the primary while it is down. Unset: everything reads the primary.',
      secret: true,
    }),
  ),
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: '^rediss?://',
      description: 'Redis URL for cache and counters. Unset: in-process memory.',
      ...secret,
    }),
  ),
  REDIS_KEY_PREFIX: Type.String({
    default: 'inkwell:',
    description: 'Prefix of every Redis key Inkwell writes.',
  }),
  CACHE_ENABLED: Type.Boolean({
    default: true,
    description:
      'Two-tier object cache (stories, first feed pages, profiles, trending). false = every read goes to the database (diagnosis, benchmarks). See docs/caching.md.',
  }),
  CACHE_LOCAL_MAX_ENTRIES: Type.Integer({
    minimum: 1,
    maximum: 10000000,
    default: 10000,
    description: 'Entries of the in-process tier of the object cache (per API process).',
  }),
  RATE_LIMIT_ENABLED: Type.Boolean({
    default: true,
    description: 'Rate limits per client IP and per user (docs/rate-limiting.md).',
  }),
  RATE_LIMIT_IP_MAX: Type.Integer({
    minimum: 1,
    maximum: 1000000000,
    default: 1200,
    description:
      'Requests allowed per window, per client IP (IPv6 per /64), every route, before authentication.',
  }),
  RATE_LIMIT_IP_WINDOW_S: Type.Integer({
    minimum: 1,
    maximum: 86400,
    default: 60,
    description: 'Window of RATE_LIMIT_IP_MAX, in seconds.',
  }),
  RATE_LIMIT_READ_MAX: Type.Integer({
    minimum: 1,
    maximum: 1000000000,
    default: 600,
    description: 'Requests allowed per window, per user, GET routes.',
  }),
  RATE_LIMIT_READ_WINDOW_S: Type.Integer({
    minimum: 1,
    maximum: 86400,
    default: 60,
    description: 'Window of RATE_LIMIT_READ_MAX, in seconds.',
  }),
  RATE_LIMIT_WRITE_MAX: Type.Integer({
    minimum: 1,
    maximum: 1000000000,
    default: 60,
    description: 'Requests allowed per window, per user, routes that change data.',
  }),
  RATE_LIMIT_WRITE_WINDOW_S: Type.Integer({
    minimum: 1,
    maximum: 86400,
    default: 60,
    description: 'Window of RATE_LIMIT_WRITE_MAX, in seconds.',
  }),
  RATE_LIMIT_EXPENSIVE_MAX: Type.Integer({
    minimum: 1,
    maximum: 1000000000,
    default: 20,
    description: 'Requests allowed per window, per user, routes marked expensive.',
  }),
  RATE_LIMIT_EXPENSIVE_WINDOW_S: Type.Integer({
    minimum: 1,
    maximum: 86400,
    default: 60,
    description: 'Window of RATE_LIMIT_EXPENSIVE_MAX, in seconds.',
  }),
  QUEUE_REDIS_URL: Type.Optional(
    Type.String({
      pattern: '^rediss?://',
      description:
        'Redis for job queues, kept with `maxmemory-policy noeviction` apart from the cache. Unset: REDIS_URL; both unset: jobs run in-process.',
      ...secret,
    }),
  ),
  WORKER_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 9091,
    description: 'Worker process: port of its /metrics and /healthz (0 = any free port).',
  }),
  WORKER_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 256,
    default: 4,
    description: 'Jobs of one queue a worker process runs at once, unless the job sets its own.',
  }),
  WORKER_SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 0,
    maximum: 600000,
    default: 25000,
    description:
      'On SIGTERM, longest wait for active jobs to finish; past it they are left to return to the queue.',
  }),
  WORKER_LOCK_DURATION_MS: Type.Integer({
    minimum: 2000,
    maximum: 600000,
    default: 30000,
    description:
      "BullMQ job lock (renewed every half of it while the job runs) and stalled-job check interval: a job whose worker died returns to the queue within about two to three times this. Longer than the event loop's longest stall.",
  }),
  TRENDING_REFRESH_S: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 60,
    description: 'How often the trending snapshot is recomputed.',
  }),
  FAULT_INJECTION: Type.Optional(
    Type.String({
      description:
        'Failure drills and tests only (refused in production): comma-separated faults, see docs/workers.md.',
    }),
  ),
  SECRET_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Signs pagination cursors. Development: generated once into DATA_DIR when unset. Production: required, at least 32 random bytes (`npm run inkwell -- secret generate`); placeholders like the example are refused.',
      examples: ['replace-me-with-npm-run-inkwell-secret-generate'],
      ...secret,
    }),
  ),
  AUTH_DEV: Type.Optional(
    Type.Boolean({
      description:
        'Trust the development identity provider (key in DATA_DIR, `npm run token`). Default: on when NODE_ENV is not production (development, test) and AUTH_ISSUER is unset; refused in production.',
    }),
  ),
  AUTH_ISSUER: Type.Optional(Type.String({ minLength: 1, description: 'Expected `iss` of access tokens.' })),
  AUTH_AUDIENCE: Type.Optional(
    Type.String({ minLength: 1, description: 'Expected `aud` of access tokens.' }),
  ),
  AUTH_JWKS_URL: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        "Identity provider's JWKS URL. Default: the `jwks_uri` of AUTH_ISSUER + /.well-known/openid-configuration.",
    }),
  ),
  AUTH_JWKS_CACHE_S: Type.Integer({
    minimum: 1,
    maximum: 86400,
    default: 600,
    description: 'How long a fetched JWKS is fresh; it is refreshed in the background before that.',
  }),
  AUTH_JWKS_COOLDOWN_S: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 30,
    description: 'At most one JWKS refetch per window for unknown `kid`s, and the wait after a failed fetch.',
  }),
  AUTH_JWKS_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 60000,
    default: 5000,
    description: 'Timeout of one JWKS (or OIDC discovery) fetch.',
  }),
  AUTH_JWKS_MAX_STALE_S: Type.Integer({
    minimum: 0,
    maximum: 604800,
    default: 86400,
    description:
      'How long cached keys keep verifying past AUTH_JWKS_CACHE_S while the JWKS cannot be fetched.',
  }),
  AUTH_TOKEN_CACHE_MAX: Type.Integer({
    minimum: 0,
    maximum: 1000000,
    default: 10000,
    description:
      'Verified tokens remembered (by SHA-256) until their `exp`, skipping signature checks; 0 = off.',
  }),
  AUTH_ALGORITHMS: Type.String({
    default: 'RS256,ES256,EdDSA',
    description: 'Comma-separated JWS algorithms accepted (asymmetric only).',
  }),
  AUTH_CLOCK_SKEW_S: Type.Integer({
    minimum: 0,
    maximum: 300,
    default: 30,
    description: 'Clock tolerance for exp/nbf/iat.',
  }),
  AUTH_ROLES_CLAIM: Type.String({
    default: 'roles',
    description:
      'Roles claim: a dot path (`app_metadata.roles`, `realm_access.roles`) or a namespaced URL claim; string or array.',
  }),
  AUTH_ADMIN_ROLE: Type.String({ default: 'admin', description: 'Role that makes a principal an admin.' }),
  SEED_DEMO: Type.Boolean({
    default: true,
    description: 'Seed a small demo dataset on the first start of an empty embedded database.',
  }),
  BODY_LIMIT_BYTES: Type.Integer({
    minimum: 1024,
    maximum: 16777216,
    default: 1048576,
    description: 'Largest accepted request body.',
  }),
  CORS_ORIGINS: Type.String({
    default: '',
    description:
      'Comma-separated allowed browser origins (`https://app.example.com`), or `none`. Development also allows any localhost origin. Production: required, never `*`.',
  }),
  TRUST_PROXY: Type.String({
    default: '',
    description:
      'Comma-separated IPs/CIDRs of proxies whose X-Forwarded-* headers are trusted, or `none`. Unset: none. Production: required.',
  }),
  PROFILE_CACHE_TTL_S: Type.Integer({
    minimum: 0,
    maximum: 3600,
    default: 30,
    description: 'How long an authenticated subject’s profile is cached.',
  }),
  VIEW_FLUSH_INTERVAL_S: Type.Integer({
    minimum: 1,
    maximum: 60,
    default: 10,
    description: 'How often aggregated story views are written to the database.',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 600000,
    default: 10000,
    description:
      'After the drain, longest wait for in-flight requests before their connections are cut and the process exits.',
  }),
  SHUTDOWN_DRAIN_MS: Type.Integer({
    minimum: 0,
    maximum: 300000,
    default: 5000,
    description:
      'On SIGTERM, how long readiness reports 503 while requests are still served, so load balancers stop routing here before the listener closes. SIGINT skips it.',
  }),
  REQUEST_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 600000,
    default: 10000,
    description:
      'Deadline of one request, hooks to response; past it the client gets 503 `timeout` and its database statement is cancelled. A route may set its own (`config: { timeoutMs }`).',
  }),
  SHED_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({
    minimum: 0,
    maximum: 60000,
    default: 500,
    description:
      'Load shedding: mean event-loop delay over one sample above which new requests get 503; 0 = off.',
  }),
  SHED_MAX_HEAP_USED_RATIO: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 0.9,
    description:
      "Load shedding: heap used, as a fraction of V8's heap limit, above which new requests get 503; 0 = off.",
  }),
  SHED_MAX_RSS_BYTES: Type.Integer({
    minimum: 0,
    default: 0,
    description:
      'Load shedding: resident set size above which new requests get 503 (e.g. 90% of a container limit); 0 = off.',
  }),
  SHED_SAMPLE_INTERVAL_MS: Type.Integer({
    minimum: 10,
    maximum: 60000,
    default: 1000,
    description: 'Load shedding: how often event-loop delay and memory are sampled.',
  }),
  SHED_RETRY_AFTER_S: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 5,
    description: 'Load shedding: `Retry-After` sent with a shed request.',
  }),
  READY_CHECK_TIMEOUT_MS: Type.Integer({
    minimum: 50,
    maximum: 30000,
    default: 1000,
    description: 'Readiness: timeout of each check (database, cache, disk, migrations).',
  }),
  READY_CACHE_MS: Type.Integer({
    minimum: 0,
    maximum: 60000,
    default: 1000,
    description: 'Readiness: how long check results are reused, so frequent probes cannot load the database.',
  }),
  READY_MIN_FREE_DISK_BYTES: Type.Integer({
    minimum: 0,
    default: 268435456,
    description:
      'Readiness: free space required on the filesystems of DATA_DIR and the temp dir; 0 = not checked.',
  }),
  AUDIT_HMAC_KEY: Type.Optional(
    Type.String({
      minLength: 32,
      description:
        'Key of the audit log hash chain (HMAC-SHA256). Unset: derived from SECRET_KEY with HKDF, so set it explicitly before ever rotating SECRET_KEY (docs/audit-log.md).',
      ...secret,
    }),
  ),
  AUDIT_RETENTION_DAYS: Type.Integer({
    minimum: 0,
    maximum: 36500,
    default: 365,
    description:
      'Audit rows older than this are purged, behind a checkpoint that keeps the chain verifiable; 0 = keep forever.',
  }),
  AUDIT_SEAL_INTERVAL_MS: Type.Integer({
    minimum: 100,
    maximum: 60000,
    default: 2000,
    description: 'How often the audit sealer chains newly committed rows.',
  }),
  AUDIT_AGGREGATE_WINDOW_S: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 60,
    description:
      'Window over which `auth.failed` and `ratelimit.blocked` are aggregated per source: one row at the first event, one summary row at the end.',
  }),
  SENTRY_DSN: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        "Sentry DSN: the API's 500s, jobs whose last try failed, and fatal process errors are reported there (tagged with request id, route and method, or job; no request data). Unset: errors are only logged.",
      ...secret,
    }),
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        'OTLP/HTTP traces endpoint of an OpenTelemetry collector (e.g. http://otel-collector:4318/v1/traces): each sampled request is a server span with a child span per SQL statement, and each job run a span. Unset: no tracing, and no cost.',
    }),
  ),
  OTEL_EXPORTER_OTLP_HEADERS: Type.Optional(
    Type.String({
      description:
        'Headers sent with every trace export, as `name=value` pairs separated by commas (an API key of a hosted collector).',
      ...secret,
    }),
  ),
  OTEL_SERVICE_NAME: Type.String({
    default: 'inkwell',
    description: 'The `service.name` of exported spans; the worker adds `-worker`.',
  }),
  OTEL_TRACES_SAMPLER_ARG: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 0.05,
    description:
      "Fraction of new traces sampled (0 to 1). A request carrying a W3C `traceparent` follows its caller's decision instead.",
  }),
  // The SECRETS_* settings configure the secrets provider itself, so they come only
  // from defaults, .env, the environment and NAME_FILE, never through the provider.
  SECRETS_PROVIDER: Type.Union(
    [Type.Literal('env'), Type.Literal('file'), Type.Literal('aws'), Type.Literal('vault')],
    {
      default: 'env',
      description:
        'Where secret settings come from, on top of env and NAME_FILE: `env` (nothing more), `file` (SECRETS_FILE_DIR), `aws` (AWS Secrets Manager), `vault` (HashiCorp Vault KV v2).',
    },
  ),
  SECRETS_CACHE_TTL_S: Type.Integer({
    minimum: 1,
    maximum: 86400,
    default: 300,
    description:
      'How long fetched secrets are used before being fetched again; also the background refresh period.',
  }),
  SECRETS_STARTUP_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 20,
    default: 5,
    description:
      'Attempts to reach the secrets provider at startup (exponential backoff from 250 ms) before giving up with exit code 69.',
  }),
  SECRETS_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 60000,
    default: 5000,
    description: 'Timeout of one request to the secrets provider.',
  }),
  SECRETS_FILE_DIR: Type.String({
    default: '/run/secrets',
    description:
      '`file` provider: directory holding one file per secret setting, named after it (e.g. `/run/secrets/SECRET_KEY`).',
  }),
  SECRETS_AWS_SECRET_ID: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        '`aws` provider: name or ARN of the secret, a JSON object whose keys are setting names (required with `aws`).',
    }),
  ),
  SECRETS_AWS_REGION: Type.Optional(
    Type.String({
      pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$',
      description: '`aws` provider: region of the secret. Unset: the AWS SDK default (AWS_REGION).',
    }),
  ),
  SECRETS_AWS_ENDPOINT: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        '`aws` provider: endpoint override (a VPC endpoint, or a local stand-in). Credentials come from the AWS SDK default chain.',
    }),
  ),
  SECRETS_VAULT_ADDR: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        '`vault` provider: Vault address, e.g. `https://vault.internal:8200` (required with `vault`).',
    }),
  ),
  SECRETS_VAULT_TOKEN: Type.Optional(
    Type.String({
      minLength: 1,
      description: '`vault` provider, token auth: the Vault token. Use a periodic token or AppRole instead.',
      ...secret,
    }),
  ),
  SECRETS_VAULT_ROLE_ID: Type.Optional(
    Type.String({ minLength: 1, description: '`vault` provider, AppRole auth: the role_id.' }),
  ),
  SECRETS_VAULT_SECRET_ID: Type.Optional(
    Type.String({ minLength: 1, description: '`vault` provider, AppRole auth: the secret_id.', ...secret }),
  ),
  SECRETS_VAULT_APPROLE_MOUNT: Type.String({
    default: 'approle',
    pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$',
    description: '`vault` provider: mount path of the AppRole auth method.',
  }),
  SECRETS_VAULT_MOUNT: Type.String({
    default: 'secret',
    pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$',
    description: '`vault` provider: mount path of the KV version 2 secrets engine.',
  }),
  SECRETS_VAULT_PATH: Type.String({
    default: 'inkwell',
    pattern: '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$',
    description:
      '`vault` provider: path of the secret inside the mount; its keys are setting names (read from `<mount>/data/<path>`).',
  }),
  SECRETS_VAULT_NAMESPACE: Type.Optional(
    Type.String({ minLength: 1, description: '`vault` provider: Vault Enterprise namespace, if any.' }),
  ),
})

export type Config = Static<typeof ConfigSchema>
export type SettingName = keyof Config
