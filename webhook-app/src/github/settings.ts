import { readFileSync } from 'node:fs';
import type { SettingsOf, SettingsSchema } from '@wharf/contracts';

/** Settings of the GitHub App. The App is mounted only when GITHUB_APP_ID is set (see `githubConfigured`). */
export const githubSettings = {
  GITHUB_APP_ID: { type: 'integer', description: 'ID of the GitHub App (`wharf github setup` prints it). Setting it turns the GitHub App on.', minimum: 1 },
  GITHUB_PRIVATE_KEY: {
    type: 'string',
    description: "The App's private key (PEM, as GitHub hands it out). Or use GITHUB_PRIVATE_KEY_PATH.",
    secret: true,
    check: (v) => (/-----BEGIN (RSA )?PRIVATE KEY-----/.test(v.replace(/\\n/g, '\n')) ? undefined : 'is not a PEM private key'),
  },
  GITHUB_PRIVATE_KEY_PATH: { type: 'string', description: "File holding the App's private key (PEM)." },
  GITHUB_WEBHOOK_SECRET: { type: 'string', description: 'Secret GitHub signs webhook deliveries with (X-Hub-Signature-256).', secret: true },
  GITHUB_API_URL: {
    type: 'string',
    description: 'GitHub REST API base URL: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server.',
    default: 'https://api.github.com',
    pattern: '^https?://',
  },
  GITHUB_WEBHOOK_PATH: { type: 'string', description: 'Path the webhook route listens on.', default: '/api/github/webhooks', pattern: '^/' },
  WHARF_PUBLIC_URL: {
    type: 'string',
    description: 'URL where GitHub and users reach this Wharf (webhook URL, check-run "details" links).',
    pattern: '^https?://',
  },
  GITHUB_DELIVERY_CONCURRENCY: { type: 'integer', description: 'Webhook deliveries processed at once by this process.', default: 4, minimum: 1, maximum: 64 },
  GITHUB_PREVIEW_JANITOR_CRON: {
    type: 'string',
    description: 'When the janitor tears down previews idle for longer than their manifest TTL (cron syntax, UTC).',
    default: '*/10 * * * *',
  },
  GITHUB_DELIVERY_RETENTION_DAYS: {
    type: 'integer',
    description: 'Days a processed webhook delivery is kept (for redeliveries and inspection) before the janitor deletes it.',
    default: 14,
    minimum: 1,
    maximum: 3650,
  },
  GITHUB_GIT_URL: {
    type: 'string',
    description:
      'Base URL that repositories are cloned from over HTTPS, as `<base>/<owner>/<repo>.git`. Default: https://github.com, or the GitHub Enterprise host of GITHUB_API_URL.',
    pattern: '^https?://',
  },
} as const satisfies SettingsSchema;

export type GitHubSettings = SettingsOf<typeof githubSettings>;

/** The App's credentials, resolved from settings. */
export interface GitHubAppCredentials {
  appId: number;
  privateKey: string;
  webhookSecret: string;
  apiUrl: string;
  webhookPath: string;
  publicUrl: string | undefined;
}

export const githubConfigured = (s: GitHubSettings): boolean => s.GITHUB_APP_ID !== undefined;

/** Every missing piece at once, like the rest of boot. */
export function resolveGitHubCredentials(s: GitHubSettings, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): GitHubAppCredentials {
  const problems: string[] = [];
  let privateKey = s.GITHUB_PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (!privateKey && s.GITHUB_PRIVATE_KEY_PATH) {
    try {
      privateKey = readFile(s.GITHUB_PRIVATE_KEY_PATH);
    } catch (err) {
      problems.push(`GITHUB_PRIVATE_KEY_PATH cannot be read: ${(err as Error).message}`);
    }
  }
  if (s.GITHUB_APP_ID === undefined) problems.push('GITHUB_APP_ID is required for the GitHub App');
  if (!privateKey && problems.length === 0) problems.push('GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is required for the GitHub App');
  if (!s.GITHUB_WEBHOOK_SECRET) problems.push('GITHUB_WEBHOOK_SECRET is required for the GitHub App');
  if (problems.length > 0) throw new Error(`GitHub App settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return {
    appId: s.GITHUB_APP_ID as number,
    privateKey: privateKey as string,
    webhookSecret: s.GITHUB_WEBHOOK_SECRET as string,
    apiUrl: s.GITHUB_API_URL.replace(/\/$/, ''),
    webhookPath: s.GITHUB_WEBHOOK_PATH,
    publicUrl: s.WHARF_PUBLIC_URL?.replace(/\/$/, ''),
  };
}
