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
  DB_POOL_MAX: Type.Integer({
    minimum: 1,
    maximum: 500,
    default: 10,
    description: 'Connections per API process.',
  }),
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
  SECRET_KEY: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Signs pagination cursors. Development: generated once into DATA_DIR when unset. Production: required.',
      ...secret,
    }),
  ),
  AUTH_DEV: Type.Optional(
    Type.Boolean({
      description:
        'Trust the development identity provider (key in DATA_DIR, `npm run token`). Default: on in development when AUTH_ISSUER is unset; refused in production.',
    }),
  ),
  AUTH_ISSUER: Type.Optional(Type.String({ minLength: 1, description: 'Expected `iss` of access tokens.' })),
  AUTH_AUDIENCE: Type.Optional(
    Type.String({ minLength: 1, description: 'Expected `aud` of access tokens.' }),
  ),
  AUTH_JWKS_URL: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description: "Identity provider's JWKS URL. Default: AUTH_ISSUER + /.well-known/jwks.json.",
    }),
  ),
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
    description: 'Dot path of the roles claim (e.g. `app_metadata.roles`).',
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
    description: 'Comma-separated allowed browser origins. Development also allows any localhost origin.',
  }),
  TRUST_PROXY: Type.String({
    default: '',
    description: 'Comma-separated CIDRs of proxies whose X-Forwarded-* headers are trusted; empty = none.',
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
    description: 'Longest wait for in-flight requests on SIGTERM before exiting.',
  }),
})

export type Config = Static<typeof ConfigSchema>
export type SettingName = keyof Config
