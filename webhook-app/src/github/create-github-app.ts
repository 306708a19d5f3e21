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
import type { Registry } from 'prom-client';
import type { CronJob } from 'cron';
import { createDeliveryWorker } from './delivery-worker.js';
import { createGitHubClient, type GitHubClient, type ThrottleOptions } from './github-client.js';
import { handlers } from './handlers/index.js';
import { startJanitor, tearDownIdlePreviews } from './janitor.js';
import { createGitHubMetrics } from './metrics.js';
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
  /** Attempts before a delivery is marked failed (default 8); a redelivery from GitHub queues it again. */
  deliveryAttempts?: number;
  /** Finished deliveries older than this many days are deleted by the janitor (default 14). */
  deliveryRetentionDays?: number;
  /** wharf/validate says "Validating" only when reading a commit takes longer than this (default 1000 ms). */
  validatingAfterMs?: number;
  /** How long progress notes, the plan and the comment wait before they are sent (default 1500 ms; see outbox-drain). */
  outboxHoldMs?: number;
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
  /** Processes the deliveries due now, until none is left, and sends nothing to GitHub (tests). */
  processDeliveries(): Promise<void>;
  tearDownIdlePreviews(): Promise<number>;
  /** Deletes finished deliveries older than the retention; returns how many (the janitor runs it). */
  pruneDeliveries(): Promise<number>;
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
  const metrics = createGitHubMetrics(options.registry, Object.keys(handlers));

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
    validatingAfterMs: options.validatingAfterMs ?? 1_000,
    appIdentity: () => client.appIdentity(),
  };
  const worker = createDeliveryWorker({
    deps,
    handlers,
    concurrency: options.deliveryConcurrency ?? 4,
    processed: metrics.processed,
    eventLabel: metrics.eventLabel,
    maxAttempts: options.deliveryAttempts,
    backoff: options.backoff,
    pollMs: options.pollMs,
  });
  const drain = createOutboxDrain({ deps, metrics, backoff: options.backoff, pollMs: options.pollMs, holdMs: options.outboxHoldMs });
  const retentionDays = options.deliveryRetentionDays ?? 14;
  const pruneDeliveries = async () => {
    const n = await deliveries.pruneDeliveries(options.pool, retentionDays);
    if (n > 0) log.info({ pruned: n, retentionDays }, 'old webhook deliveries deleted');
    return n;
  };
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
      metrics,
    }),
    start() {
      worker.start();
      drain.start();
      if (options.janitorCron !== null) janitor = startJanitor(deps, options.janitorCron ?? '*/10 * * * *', [pruneDeliveries]);
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
    async processDeliveries() {
      for (let i = 0; i < 50; i++) {
        await worker.drain();
        const counts = await deliveries.countDeliveries(options.pool);
        if (counts.pending === 0 && counts.processing === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    tearDownIdlePreviews: () => tearDownIdlePreviews(deps),
    pruneDeliveries,
  };
}
