import { commonSettings, type SettingsOf, type SettingsSchema } from '@wharf/contracts';
import { sourceSettings } from '@wharf/source';
import { storeSettings } from '@wharf/store';
import { apiSettings } from './api/settings.js';
import { stripeSettings } from './billing/stripe-client.js';
import { githubSettings } from './github/settings.js';

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

/** Everything the control-plane server reads: its own, the store's and every unit's. */
export const controlPlaneSettings = { ...commonSettings, ...serverSettings, ...storeSettings, ...githubSettings, ...sourceSettings, ...apiSettings, ...stripeSettings } as const satisfies SettingsSchema;
export type ControlPlaneSettings = SettingsOf<typeof controlPlaneSettings>;
