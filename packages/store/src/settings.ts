import { checkPostgresUrl, type SettingsSchema } from '@wharf/contracts';

export const storeSettings = {
  DATABASE_URL: {
    type: 'string',
    description:
      'PostgreSQL connection string. When unset, Wharf starts an embedded PostgreSQL server under `WHARF_DATA_DIR/pg`.',
    secret: true,
    check: checkPostgresUrl,
  },
  WHARF_DB_POOL_SIZE: { type: 'integer', description: 'Maximum connections in the pool.', default: 10, minimum: 1, maximum: 200 },
} as const satisfies SettingsSchema;
