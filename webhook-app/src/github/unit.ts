/**
 * The GitHub App as a control-plane unit, mounted when GITHUB_APP_ID is set: the webhook route, the delivery worker,
 * the outbox drain to GitHub and the preview janitor, with a source that fetches repositories with installation
 * tokens.
 */
import path from 'node:path';
import { StartupError } from '@wharf/contracts';
import { createSource, fetchLimitsFrom } from '@wharf/source';
import type { UnitFactory } from '../units.js';
import { createGitHubApp, type GitHubApp } from './create-github-app.js';
import { githubConfigured, resolveGitHubCredentials } from './settings.js';

export const githubUnit: UnitFactory = async ({ pool, log, registry, settings, dataDir }) => {
  if (!githubConfigured(settings)) return null;
  let credentials: ReturnType<typeof resolveGitHubCredentials>;
  try {
    credentials = resolveGitHubCredentials(settings);
  } catch (err) {
    // Incomplete for the App (a key or a secret missing): every problem at once.
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
    deliveryRetentionDays: settings.GITHUB_DELIVERY_RETENTION_DAYS,
    ...(gitBase ? { repositoryUrl: (fullName: string) => `${gitBase}/${fullName}.git` } : {}),
  });
  return { name: 'github', plugin: app.plugin, start: () => app.start(), stop: () => app.stop() };
};
