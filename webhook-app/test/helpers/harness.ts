/**
 * A whole GitHub App on loopback for scenario tests: real Postgres, a real Git remote (smart HTTP), the real source
 * and reconciler (memory target), the strict fake GitHub, and the Fastify server receiving signed deliveries.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createReconciler, createTargetRegistry, existingTarget, type Reconciler } from '@wharf/reconciler';
import { createSource } from '@wharf/source';
import { repositories, type RepositoryScope, scopeOf, tenants } from '@wharf/store';
import {
  createMemoryTarget,
  createTestDatabase,
  type FakeGitHub,
  git,
  type GitHttpServer,
  type MemoryTarget,
  openRepo,
  publishPullHead,
  type RepoRef,
  signedDelivery,
  startFakeGitHub,
  startGitHttpServer,
  type TestDatabase,
} from '@wharf/testkit';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildServer, createGitHubApp, type GitHubApp } from '../../src/index.js';


export const WEBHOOK_SECRET = 'test-webhook-secret';
export const APP_ID = 123456;
export const INSTALLATION_ID = 4242;
export const REPO: RepoRef = { fullName: 'acme/shop', installationId: INSTALLATION_ID, defaultBranch: 'main' };

export { workflow } from '@wharf/testkit';

export const manifest = (extra = ''): string => `apps:\n  - name: shop\n    files: ["apps/shop/*.yaml"]\n${extra}`;

export interface Harness {
  db: TestDatabase;
  fake: FakeGitHub;
  app: GitHubApp;
  server: FastifyInstance;
  reconciler: Reconciler;
  target: MemoryTarget;
  /** Commits files on a branch of the working copy and pushes it; returns the sha. */
  commit(branch: string, message: string, files: Record<string, string | null>): Promise<string>;
  /**
   * Commits in a fork of the repository (its own clone, branch `patch-<n>`, started from `base` of the repository)
   * and publishes it as GitHub does: the base repository has the commit only under `refs/pull/<n>/head`, on no
   * branch. Returns the sha.
   */
  forkCommit(prNumber: number, message: string, files: Record<string, string | null>, base?: string): Promise<string>;
  /** The bare repository GitHub would hold (the remote Wharf fetches from). */
  remote: string;
  /** Every request the Git server received. */
  gitRequests: GitHttpServer['requests'];
  /**
   * Sends a signed delivery the way GitHub does; returns the HTTP status. For a pull request from a branch of the
   * repository, `refs/pull/<n>/head` is updated to the branch first, as GitHub keeps it.
   */
  deliver(event: string, payload: unknown, id?: string): Promise<{ status: number; id: string; body: unknown }>;
  /** Processes deliveries, reconciles environments and drains the outbox until nothing moves. */
  settle(): Promise<void>;
  silentLog: pino.Logger;
  /** Moves the App's clock forward (the janitor's idea of now). */
  advance(ms: number): void;
  /** The tenant and repository of REPO, as the store scopes its reads. */
  repository(): Promise<RepositoryScope>;
}

export interface HarnessOptions {
  maxPreviews?: number;
  /** Largest pack one fetch may receive (the source's fetch limit). */
  maxPackBytes?: number;
  /** Attempts before a delivery is marked failed. */
  deliveryAttempts?: number;
  /** Where everything logs (default: silent, or WHARF_TEST_LOG's level). */
  log?: pino.Logger;
  /** The App's keys (default: a fresh pair). */
  keys?: { privateKey: string; publicKey: string };
}

export async function startHarness(t: { teardown(fn: () => unknown): void; fail(m: string): unknown }, options: HarnessOptions = {}): Promise<Harness> {
  const db = await createTestDatabase(t);
  const silentLog = options.log ?? pino({ level: process.env.WHARF_TEST_LOG ?? 'silent' });
  const { privateKey, publicKey } =
    options.keys ??
    generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
  const fake = await startFakeGitHub({ appId: APP_ID, publicKey, installations: [{ id: INSTALLATION_ID, account: 'acme', repositories: [REPO.fullName] }] });
  t.teardown(() => fake.close());

  const root = await mkdtemp(path.join(tmpdir(), 'wharf-gh-remote-'));
  const work = await mkdtemp(path.join(tmpdir(), 'wharf-gh-work-'));
  const forkWork = await mkdtemp(path.join(tmpdir(), 'wharf-gh-fork-'));
  const cache = await mkdtemp(path.join(tmpdir(), 'wharf-gh-cache-'));
  t.teardown(() => Promise.all([root, work, forkWork, cache].map((d) => rm(d, { recursive: true, force: true }))));
  await mkdir(path.join(root, 'acme'), { recursive: true });
  const remote = path.join(root, 'acme', 'shop.git');
  await git(path.join(root, 'acme'), 'init', '-q', '--bare', '-b', 'main', 'shop.git');
  await git(work, 'clone', '-q', remote, '.');
  await git(work, 'checkout', '-q', '-b', 'main');
  const gitServer = await startGitHttpServer(root);
  t.teardown(() => gitServer.close());

  let app!: GitHubApp;
  let offset = 0;
  const source = createSource({
    pool: db.pool,
    cacheDir: cache,
    log: silentLog,
    auth: (r) => app.remoteAuth(r),
    retry: { attempts: 1 },
    ...(options.maxPackBytes ? { fetchLimits: { maxPackBytes: options.maxPackBytes } } : {}),
  });
  const registry = new Registry();
  app = createGitHubApp({
    pool: db.pool,
    log: silentLog,
    registry,
    credentials: { appId: APP_ID, privateKey, webhookSecret: WEBHOOK_SECRET, apiUrl: fake.url, webhookPath: '/api/github/webhooks', publicUrl: 'https://wharf.example.com' },
    source,
    repositoryUrl: (fullName) => `${gitServer.url}/${fullName}.git`,
    janitorCron: null,
    throttle: { writeIntervalMs: 0, notificationIntervalMs: 0, retryAfterBaseMs: 5 },
    backoff: { baseSeconds: 0.02, maxSeconds: 0.1 },
    deliveryAttempts: options.deliveryAttempts,
    // Tests settle the outbox at once; the benchmark measures the hold.
    outboxHoldMs: 0,
    pollMs: 20,
    now: () => new Date(Date.now() + offset),
  });
  t.teardown(() => app.stop());
  const server = await buildServer({ log: silentLog, pool: db.pool, registry, version: 'test', units: [{ name: 'github', plugin: app.plugin }] });
  t.teardown(() => server.close());
  // Environments name the `local` target (the manifest's default): the registry serves the memory target under it.
  const target = createMemoryTarget();
  const targets = await createTargetRegistry({ local: {} }, { log: silentLog }, { local: existingTarget(target, 'none') });
  const reconciler = createReconciler({ pool: db.pool, targets, log: silentLog, resyncMs: 3_600_000 });
  t.teardown(() => reconciler.stop());

  const branchesSeen = new Set<string>(['main']);
  const forkBranches = new Set<string>();
  const h: Harness = {
    db,
    remote,
    gitRequests: gitServer.requests,
    fake,
    app,
    server,
    reconciler,
    target,
    silentLog,
    advance: (ms) => {
      offset += ms;
    },
    async repository() {
      const repo = await repositories.findGithubRepository(db.pool, String(INSTALLATION_ID), REPO.fullName);
      if (!repo) throw new Error(`${REPO.fullName} is not known yet`);
      return scopeOf(repo);
    },
    async commit(branch, message, files) {
      const current = await git(work, 'rev-parse', '--abbrev-ref', 'HEAD').catch(() => 'main');
      if (current !== branch) {
        if (branchesSeen.has(branch)) await git(work, 'checkout', '-q', branch);
        else await git(work, 'checkout', '-q', '-b', branch);
      }
      branchesSeen.add(branch);
      await (await openRepo(work)).write(files);
      await git(work, 'add', '-A');
      await git(work, 'commit', '-q', '--allow-empty', '-m', message);
      await git(work, 'push', '-q', '--force', 'origin', branch);
      const sha = await git(work, 'rev-parse', 'HEAD');
      fake.state.refs.set(`${REPO.fullName}:refs/heads/${branch}`, sha);
      const tree = await git(work, 'rev-parse', 'HEAD^{tree}');
      const parents = (await git(work, 'rev-list', '--parents', '-n', '1', 'HEAD')).split(' ').slice(1);
      fake.state.addCommit(REPO.fullName, { sha, tree, parents, message });
      return sha;
    },
    async forkCommit(prNumber, message, files, base = 'main') {
      const branch = `patch-${prNumber}`;
      if (forkBranches.size === 0) await git(forkWork, 'clone', '-q', remote, '.');
      if (forkBranches.has(branch)) {
        await git(forkWork, 'checkout', '-q', branch);
      } else {
        await git(forkWork, 'fetch', '-q', 'origin');
        await git(forkWork, 'checkout', '-q', '-B', branch, `origin/${base}`);
        forkBranches.add(branch);
      }
      await (await openRepo(forkWork)).write(files);
      await git(forkWork, 'add', '-A');
      await git(forkWork, 'commit', '-q', '--allow-empty', '-m', message);
      return publishPullHead({ base: remote, fork: forkWork, branch, number: prNumber });
    },
    async deliver(event, payload, id = randomUUID()) {
      const p = payload as { pull_request?: { number?: number; head?: { ref?: string; repo?: { id?: number } | null } }; repository?: { id?: number } };
      const head = p.pull_request?.head;
      if (event === 'pull_request' && head?.repo && head.repo.id === p.repository?.id && head.ref && p.pull_request?.number) {
        // A deleted branch leaves the ref where it was, as on GitHub.
        await publishPullHead({ base: remote, fork: remote, branch: head.ref, number: p.pull_request.number }).catch(() => undefined);
      }
      const d = signedDelivery(WEBHOOK_SECRET, event, payload, id);
      const res = await server.inject({ method: 'POST', url: '/api/github/webhooks', headers: d.headers, payload: d.body });
      return { status: res.statusCode, id, body: res.json() };
    },
    async settle() {
      const started = Date.now();
      t.teardown(() => undefined);
      if (process.env.WHARF_TEST_TIMING) process.stderr.write(`settle start\n`);
      try { await settleLoop(); } finally { if (process.env.WHARF_TEST_TIMING) process.stderr.write(`settle ${Date.now() - started} ms\n`); }
    },
  };
  async function settleLoop() {
      for (let i = 0; i < 20; i++) {
        await app.settle();
        const n = await reconciler.reconcileOnce();
        await app.settle();
        if (n === 0) return;
      }
  }
  // The installation exists before anything else, as on GitHub.
  const { installationPayload } = await import('@wharf/testkit');
  await h.deliver('installation', installationPayload({ action: 'created', installationId: INSTALLATION_ID, account: 'acme', repositories: [REPO.fullName] }));
  await h.settle();
  if (options.maxPreviews !== undefined) {
    const tenant = await tenants.findTenant(db.pool, 'github', String(INSTALLATION_ID));
    if (tenant) await tenants.setMaxPreviews(db.pool, tenant.id, options.maxPreviews);
  }
  return h;
}
