import type { SettingsSchema } from '@wharf/contracts';

export const serverSettings = {
  WHARF_HOST: { type: 'string', description: 'Address the API and webhook server listens on.', default: '127.0.0.1' },
  WHARF_PORT: {
    type: 'integer',
    description: 'Port of the API and webhook server (`/healthz`, `/readyz`, `/metrics`, webhooks).',
    default: 4600,
    minimum: 0,
    maximum: 65535,
  },
} as const satisfies SettingsSchema;
