import path from 'node:path';
import type { SettingsOf } from '@wharf/contracts';
import { createSource, fetchLimitsFrom } from '@wharf/source';
import type { DatabasePool } from '@wharf/store';
import { createGitHubApp, type GitHubApp, githubConfigured, resolveGitHubCredentials } from '@wharf/webhook-app';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type ControlPlaneExtension, StartupError } from '../control-plane.js';
import type { upSettings } from '../settings.js';

/**
 * The GitHub App, mounted when GITHUB_APP_ID is set: the webhook route, the delivery worker, the outbox drain to
 * GitHub and the preview janitor, with a source that fetches repositories with installation tokens.
 */
export function githubExtension(settings: SettingsOf<typeof upSettings>, dataDir: string, log: Logger) {
  return async ({ pool, registry }: { pool: DatabasePool; registry: Registry }): Promise<ControlPlaneExtension> => {
    if (!githubConfigured(settings)) return {};
    let credentials: ReturnType<typeof resolveGitHubCredentials>;
    try {
      credentials = resolveGitHubCredentials(settings);
    } catch (err) {
      throw new StartupError((err as Error).message);
    }
    let app!: GitHubApp;
    const source = createSource({
      pool,
      cacheDir: path.join(dataDir, 'cache'),
      log: log.child({ component: 'source' }),
      auth: (repository) => app.remoteAuth(repository),
      fetchLimits: fetchLimitsFrom(settings),
    });
    const gitBase = settings.GITHUB_GIT_URL?.replace(/\/$/, '');
    app = createGitHubApp({
      pool,
      log,
      registry,
      credentials,
      source,
      deliveryConcurrency: settings.GITHUB_DELIVERY_CONCURRENCY,
      janitorCron: settings.GITHUB_PREVIEW_JANITOR_CRON,
      ...(gitBase ? { repositoryUrl: (fullName: string) => `${gitBase}/${fullName}.git` } : {}),
    });
    return { plugins: [app.plugin], start: () => app.start(), stop: () => app.stop() };
  };
}
