import { commonSettings, type SettingsOf, type SettingsSchema } from '@wharf/contracts';
import { sourceSettings } from '@wharf/source';
import { storeSettings } from '@wharf/store';
import { agentApiSettings } from './agent-api/settings.js';
import { apiSettings } from './api/settings.js';
import { stripeSettings } from './billing/stripe-client.js';
import { githubSettings } from './github/settings.js';
import { meteringSettings } from './metering/settings.js';

export const serverSettings = {
  WHARF_HOST: { type: 'string', description: 'Address the API and webhook server listens on.', default: '127.0.0.1' },
  WHARF_PORT: {
    type: 'integer',
    description: 'Port of the API and webhook server (`/healthz`, `/readyz`, `/metrics`, webhooks).',
    default: 4600,
    minimum: 0,
    maximum: 65535,
  },
  WHARF_HTTP_BODY_LIMIT_BYTES: {
    type: 'integer',
    description: 'Largest request body the server takes, in bytes (default 1 MiB); the GitHub webhook route takes up to 25 MiB, as GitHub caps payloads.',
    default: 1_048_576,
    minimum: 1_024,
    maximum: 104_857_600,
  },
  WHARF_HTTP_REQUEST_TIMEOUT_MS: {
    type: 'integer',
    description: 'A request whose headers and body have not all arrived within this many milliseconds is answered 408 and closed.',
    default: 30_000,
    minimum: 100,
  },
  WHARF_HTTP_IDLE_TIMEOUT_MS: {
    type: 'integer',
    description: 'A connection with no traffic for this many milliseconds is closed.',
    default: 120_000,
    minimum: 100,
  },
} as const satisfies SettingsSchema;

/** Everything the control-plane server reads: its own, the store's and every unit's. */
export const controlPlaneSettings = { ...commonSettings, ...serverSettings, ...storeSettings, ...githubSettings, ...sourceSettings, ...apiSettings, ...stripeSettings, ...meteringSettings, ...agentApiSettings } as const satisfies SettingsSchema;
export type ControlPlaneSettings = SettingsOf<typeof controlPlaneSettings>;
