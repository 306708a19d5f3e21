import type { SettingsOf, SettingsSchema } from '@wharf/contracts';

/** Settings of the REST API unit (`/api/v1`). It is always mounted; sign-in with GitHub needs the OAuth client. */
export const apiSettings = {
  WHARF_API_PEPPER: {
    type: 'string',
    description:
      'Secret (32+ characters) mixed into the stored hashes of API keys, tokens and invitations (HMAC-SHA256); also signs the sign-in state. Every control-plane replica needs the same value. Default: generated once into WHARF_DATA_DIR/secrets/api-pepper.',
    secret: true,
    check: (v) => (v.length >= 32 ? undefined : 'must be at least 32 characters'),
  },
  WHARF_API_LOCAL_OWNER: {
    type: 'boolean',
    description:
      'Requests without credentials from this machine (loopback address and Host) act as the local owner. `wharf up` turns it on; a hosted control plane leaves it off.',
    default: false,
  },
  GITHUB_CLIENT_ID: { type: 'string', description: "The GitHub App's OAuth client id (for signing in with GitHub and `wharf login`)." },
  GITHUB_CLIENT_SECRET: { type: 'string', description: "The GitHub App's OAuth client secret.", secret: true },
  GITHUB_OAUTH_URL: {
    type: 'string',
    description: "Where GitHub's sign-in pages are (`/login/oauth/…`). Default: https://github.com, or the GitHub Enterprise host of GITHUB_API_URL.",
    pattern: '^https?://',
  },
  WHARF_SESSION_HOURS: { type: 'integer', description: 'How long a browser session lasts (CLI tokens: 30 days).', default: 24, minimum: 1, maximum: 720 },
  WHARF_COOKIE_SECURE: { type: 'boolean', description: 'Session cookies only over HTTPS (turn off only for plain-HTTP development).', default: true },
} as const satisfies SettingsSchema;
export type ApiSettings = SettingsOf<typeof apiSettings>;

/** `https://api.github.com` → `https://github.com`; GitHub Enterprise `https://HOST/api/v3` → `https://HOST`. */
export function oauthBaseUrl(settings: { GITHUB_OAUTH_URL?: string | undefined; GITHUB_API_URL: string }): string {
  if (settings.GITHUB_OAUTH_URL) return settings.GITHUB_OAUTH_URL.replace(/\/$/, '');
  const api = new URL(settings.GITHUB_API_URL);
  if (api.hostname === 'api.github.com') return 'https://github.com';
  return `${api.protocol}//${api.host}${api.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/$/, '')}`;
}
