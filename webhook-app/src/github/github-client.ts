/**
 * Probot as Wharf's GitHub client: it signs the App's JWT, exchanges it for installation tokens (cached 59 min),
 * verifies webhook signatures, and throttles requests within GitHub's rate limits (@octokit/plugin-throttling:
 * writes spaced out, primary and secondary limits waited out). Octokit's own 5xx retries are off: failed writes
 * go back to the outbox, which retries with backoff and keeps order.
 */
import Bottleneck from 'bottleneck';
import type { Logger } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import type { GitHubAppCredentials } from './settings.js';
import type { AppIdentity } from './types.js';

export type InstallationOctokit = Awaited<ReturnType<Probot['auth']>>;

export interface ThrottleOptions {
  /** Spacing of write requests per process (GitHub asks for about one per second). Default 1000. */
  writeIntervalMs?: number;
  /** A rate-limited request is retried in-process once if the limit resets within this many seconds. Default 60. */
  maxRateLimitWaitSeconds?: number;
  /** Spacing of requests that notify people (comments, pull requests). Default 3000, as @octokit/plugin-throttling. */
  notificationIntervalMs?: number;
  /** Milliseconds per second of GitHub's retry-after (tests shorten it). Default 1000. */
  retryAfterBaseMs?: number;
}

export interface GitHubClient {
  probot: Probot;
  /** An Octokit authenticated as the installation. */
  installation(installationId: number | string): Promise<InstallationOctokit>;
  /** A fresh-enough installation token, e.g. for Git over HTTPS. */
  installationToken(installationId: number | string): Promise<string>;
  verifySignature(body: string, signature: string): Promise<boolean>;
  /** The App's id, slug and bot user, asked of GitHub (GET /app) once. */
  appIdentity(): Promise<AppIdentity>;
}

const DEFAULT_API = 'https://api.github.com';

/**
 * @octokit/auth-app mints installation tokens through a request without the Octokit's baseUrl when asked
 * explicitly (`octokit.auth({ type: 'installation' })`), so that call would always go to api.github.com. Sending
 * every request through this fetch points all of them at the configured API (GitHub Enterprise Server, the fake).
 */
function apiFetch(apiUrl: string): typeof fetch {
  if (apiUrl === DEFAULT_API) return fetch;
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const target = url.startsWith(DEFAULT_API) ? apiUrl + url.slice(DEFAULT_API.length) : url;
    return fetch(target, init);
  };
}

export function createGitHubClient(credentials: GitHubAppCredentials, log: Logger, throttle: ThrottleOptions = {}): GitHubClient {
  const maxWait = throttle.maxRateLimitWaitSeconds ?? 60;
  const retryOnce = (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
    log.warn({ method: options.method, url: options.url, retryAfter, retryCount }, 'GitHub rate limit hit');
    return retryCount < 1 && retryAfter <= maxWait;
  };
  const throttleOptions = {
    enabled: true,
    onRateLimit: retryOnce,
    onSecondaryRateLimit: retryOnce,
    retryAfterBaseValue: throttle.retryAfterBaseMs ?? 1000,
    write: new Bottleneck.Group({ maxConcurrent: 1, minTime: throttle.writeIntervalMs ?? 1000 }),
    notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: throttle.notificationIntervalMs ?? 3000 }),
  };
  // Probot replaces throttle options on the way to installation clients; a subclass keeps Wharf's on every instance.
  class WharfOctokit extends ProbotOctokit {
    constructor(...args: unknown[]) {
      const options = (args[0] ?? {}) as Record<string, unknown>;
      super({ ...options, retry: { enabled: false }, throttle: { ...(options.throttle as object), ...throttleOptions } });
    }
  }
  const probot = new Probot({
    request: { fetch: apiFetch(credentials.apiUrl) },
    appId: credentials.appId,
    privateKey: credentials.privateKey,
    secret: credentials.webhookSecret,
    baseUrl: credentials.apiUrl,
    log: log.child({ component: 'probot' }),
    Octokit: WharfOctokit as typeof ProbotOctokit,
  });
  const installation = (id: number | string) => probot.auth(Number(id));
  let identity: Promise<AppIdentity> | undefined;
  return {
    probot,
    installation,
    async installationToken(id) {
      const octokit = await installation(id);
      const auth = (await octokit.auth({ type: 'installation' })) as { token: string };
      return auth.token;
    },
    appIdentity() {
      identity ??= (async () => {
        const octokit = await probot.auth();
        const { data } = await octokit.rest.apps.getAuthenticated();
        const slug = data?.slug;
        if (!slug) throw new Error('GitHub did not say what the App is called (GET /app)');
        return { appId: data.id, slug, botLogin: `${slug}[bot]` };
      })().catch((err: unknown) => {
        identity = undefined;
        throw err;
      });
      return identity;
    },
    async verifySignature(body, signature) {
      await probot.ready();
      try {
        return await probot.webhooks.verify(body, signature);
      } catch {
        return false;
      }
    },
  };
}
