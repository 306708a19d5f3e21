/**
 * The GitHub App as one unit: the webhook route (a Fastify plugin for buildServer's `plugins`), the delivery worker,
 * the outbox drain and the idle-preview janitor. `wharf up` mounts it when GitHub settings are present:
 *
 *   const gh = createGitHubApp({ pool, log, registry, credentials: resolveGitHubCredentials(settings), source, ... });
 *   const server = await buildServer({ ..., plugins: [gh.plugin] });
 *   gh.start(); … await gh.stop();
 */
import { OUTBOX_KINDS } from '@wharf/contracts';
import { type DatabasePool, deliveries, outbox, repositories, scopeOf } from '@wharf/store';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { CronJob } from 'cron';
import { createDeliveryWorker } from './delivery-worker.js';
import { createGitHubClient, type GitHubClient, type ThrottleOptions } from './github-client.js';
import { handlers } from './handlers/index.js';
import { startJanitor, tearDownIdlePreviews } from './janitor.js';
import { createOutboxDrain } from './outbox/outbox-drain.js';
import type { GitHubAppCredentials } from './settings.js';
import type { AppDeps, SourcePort } from './types.js';
import { webhookRoute } from './webhook-route.js';

export interface GitHubAppOptions {
  pool: DatabasePool;
  log: Logger;
  registry: Registry;
  credentials: GitHubAppCredentials;
  source: SourcePort;
  /** Clone URL per repository; default https://github.com/<full name>.git (GHES: derived from the API URL). */
  repositoryUrl?: (fullName: string) => string;
  deliveryConcurrency?: number;
  /** Cron schedule of the idle-preview janitor (UTC); null turns it off. Default every 10 minutes. */
  janitorCron?: string | null;
  throttle?: ThrottleOptions;
  /** Retry timing of deliveries and outbox rows (tests shorten it). */
  backoff?: { baseSeconds: number; maxSeconds: number };
  pollMs?: number;
  now?: () => Date;
}

export interface GitHubApp {
  /** Register with buildServer({ plugins: [app.plugin] }). */
  plugin: FastifyPluginAsync;
  /** Starts the delivery worker, the outbox drain and the janitor. */
  start(): void;
  stop(): Promise<void>;
  /** Credentials for Git over HTTPS with an installation token: pass as `auth` to createSource. */
  remoteAuth(repository: repositories.Repository): Promise<{ token: string; username: string } | undefined>;
  /** Processes everything due now: deliveries, then the outbox, until both are idle (tests, benchmarks). */
  settle(): Promise<void>;
  tearDownIdlePreviews(): Promise<number>;
  client: GitHubClient;
  deps: AppDeps;
}

function defaultRepositoryUrl(apiUrl: string): (fullName: string) => string {
  const u = new URL(apiUrl);
  const web = u.hostname === 'api.github.com' ? 'https://github.com' : `${u.protocol}//${u.host}`;
  return (fullName) => `${web}/${fullName}.git`;
}

export function createGitHubApp(options: GitHubAppOptions): GitHubApp {
  const log = options.log.child({ component: 'github-app' });
  const client = createGitHubClient(options.credentials, log, options.throttle);
  const metric = <T extends string>(name: string, help: string, labelNames: T[]) =>
    (options.registry.getSingleMetric(name) as Counter<T> | undefined) ?? new Counter({ name, help, labelNames, registers: [options.registry] });
  const received = metric('wharf_github_webhooks_received_total', 'Webhook deliveries received, by event and result.', ['event', 'result']);
  const processed = metric('wharf_github_deliveries_processed_total', 'Webhook deliveries processed, by event and result.', ['event', 'result']);
  const sent = metric('wharf_github_outbox_sent_total', 'Outbox rows sent to GitHub, by kind and result.', ['kind', 'result']);
  const storeSeconds =
    (options.registry.getSingleMetric('wharf_github_webhook_store_seconds') as Histogram<string> | undefined) ??
    new Histogram({ name: 'wharf_github_webhook_store_seconds', help: 'Time to store a webhook delivery.', registers: [options.registry], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1] });

  let drainRef: { wake(): void } | undefined;
  const deps: AppDeps = {
    pool: options.pool,
    log,
    client,
    source: options.source,
    repositoryUrl: options.repositoryUrl ?? defaultRepositoryUrl(options.credentials.apiUrl),
    publicUrl: options.credentials.publicUrl,
    now: options.now ?? (() => new Date()),
    wakeDrain: () => drainRef?.wake(),
  };
  const worker = createDeliveryWorker({ deps, handlers, concurrency: options.deliveryConcurrency ?? 4, processed, backoff: options.backoff, pollMs: options.pollMs });
  const drain = createOutboxDrain({ deps, sent, backoff: options.backoff, pollMs: options.pollMs });
  drainRef = drain;
  let janitor: CronJob | undefined;

  return {
    client,
    deps,
    plugin: webhookRoute({
      path: options.credentials.webhookPath,
      pool: options.pool,
      verifySignature: client.verifySignature,
      onStored: () => worker.wake(),
      metrics: { received, storeSeconds },
    }),
    start() {
      worker.start();
      drain.start();
      if (options.janitorCron !== null) janitor = startJanitor(deps, options.janitorCron ?? '*/10 * * * *');
    },
    async stop() {
      await janitor?.stop();
      await worker.stop();
      await drain.stop();
    },
    async remoteAuth(repository) {
      if (repository.provider !== 'github') return undefined;
      const repo = await repositories.getGithubRepository(options.pool, scopeOf(repository));
      if (!repo) return undefined;
      return { token: await client.installationToken(repo.installation_id), username: 'x-access-token' };
    },
    async settle() {
      for (let i = 0; i < 50; i++) {
        await worker.drain();
        await drain.drain();
        const pending = await outbox.countPendingOutbox(options.pool, Object.values(OUTBOX_KINDS));
        const counts = await deliveries.countDeliveries(options.pool);
        if (pending === 0 && counts.pending === 0 && counts.processing === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    tearDownIdlePreviews: () => tearDownIdlePreviews(deps),
  };
}
