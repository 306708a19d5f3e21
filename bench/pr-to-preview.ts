/**
 * pull_request.opened → what the developer sees on the pull request. Starts Postgres (DATABASE_URL, or embedded in a
 * temp dir), the strict fake GitHub, a real Git remote over smart HTTP holding examples/hello-api, the real source,
 * the reconciler with the local target running the reference runtime, and the GitHub App with its worker and
 * outbox drain running. For each of RUNS pull requests (default 5) it times, from the signed delivery being sent:
 *   - validate: wharf/validate completed on the fake;
 *   - preview: wharf/preview success with the preview URL (the runtime answering behind the local router);
 *   - deployment: the preview deployment's success status with the URL (GitHub's "View deployment" button).
 * Each pull request is closed afterwards (preview torn down). Usage: npm run bench -- pr-to-preview [RUNS]
 * WRITE_INTERVAL_MS (default 1000, GitHub's guidance) spaces write requests as in production.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createReconciler, createTargetRegistry } from '@wharf/reconciler';
import { createSource } from '@wharf/source';
import { OUTBOX_KINDS } from '@wharf/contracts';
import { createStorePool, deliveries, migrate, outbox, startEmbeddedPostgres } from '@wharf/store';
import { installationPayload, publishPullHead, pullRequestPayload, pushPayload, REPO_ROOT, signedDelivery, startFakeGitHub, startGitHttpServer } from '@wharf/testkit';
import { buildServer, createGitHubApp, type GitHubApp } from '@wharf/webhook-app';
import { createDatabase, databaseUrl, dropDatabase } from '@wharf/store/testing';
import pino from 'pino';
import { Registry } from 'prom-client';

const RUNS = Number(process.argv[2] ?? 5);
const LIMIT_MS = 60_000;
const WRITE_INTERVAL_MS = Number(process.env.WRITE_INTERVAL_MS ?? 1000);
const run = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' };
const git = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd, env: GIT_ENV })).stdout.trim();
const log = pino({ level: process.env.WHARF_LOG_LEVEL ?? 'error' });
const SECRET = 'bench-secret';
const REPO = { fullName: 'acme/hello', installationId: 77, defaultBranch: 'main' };

const cleanups: (() => Promise<unknown>)[] = [];
const tmp = await mkdtemp(path.join(tmpdir(), 'wharf-bench-pr-'));
cleanups.push(() => rm(tmp, { recursive: true, force: true }));
let url = process.env.DATABASE_URL;
if (!url) {
  const h = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), ephemeral: true, log });
  url = h.url;
  cleanups.unshift(() => h.stop());
} else {
  const name = `wharf_bench_pr_${Date.now()}`;
  const base = url;
  await createDatabase(base, name);
  url = databaseUrl(base, name);
  cleanups.unshift(() => dropDatabase(base, name));
}
/** GET a *.localhost URL through 127.0.0.1 with its Host header (the local router routes by host). */
const getViaLoopback = (target: string) =>
  new Promise<string>((resolve) => {
    const u = new URL(target);
    const req = http.get({ host: '127.0.0.1', port: u.port, path: u.pathname, headers: { host: u.host } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', (e) => resolve(e.message));
  });
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};

let app: GitHubApp | undefined;
try {
  await migrate(url, log);
  const pool = await createStorePool(url, { maximumPoolSize: 10 });
  cleanups.unshift(() => pool.end());
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const fake = await startFakeGitHub({ appId: 9, publicKey, installations: [{ id: REPO.installationId, account: 'acme', repositories: [REPO.fullName] }] });
  cleanups.unshift(() => fake.close());

  const root = path.join(tmp, 'remote');
  const work = path.join(tmp, 'work');
  await mkdir(path.join(root, 'acme'), { recursive: true });
  await git(path.join(root, 'acme'), 'init', '-q', '--bare', '-b', 'main', 'hello.git');
  await cp(path.join(REPO_ROOT, 'examples/hello-api'), work, { recursive: true });
  await git(work, 'init', '-q', '-b', 'main');
  await git(work, 'remote', 'add', 'origin', path.join(root, 'acme', 'hello.git'));
  const commit = async (branch: string, message: string, edit?: (s: string) => string) => {
    if (edit) {
      const file = path.join(work, 'workflow.yaml');
      await writeFile(file, edit(await readFile(file, 'utf8')));
    }
    await git(work, 'add', '-A');
    await git(work, 'commit', '-q', '--allow-empty', '-m', message);
    await git(work, 'push', '-q', '--force', 'origin', `HEAD:refs/heads/${branch}`);
    return git(work, 'rev-parse', 'HEAD');
  };
  const gitServer = await startGitHttpServer(root);
  cleanups.unshift(() => gitServer.close());

  const source = createSource({ pool, cacheDir: path.join(tmp, 'cache'), log, auth: (r) => (app as GitHubApp).remoteAuth(r) });
  const registry = new Registry();
  app = createGitHubApp({
    pool,
    log,
    registry,
    credentials: { appId: 9, privateKey, webhookSecret: SECRET, apiUrl: fake.url, webhookPath: '/api/github/webhooks', publicUrl: undefined },
    source,
    repositoryUrl: (fullName) => `${gitServer.url}/${fullName}.git`,
    janitorCron: null,
    throttle: { writeIntervalMs: WRITE_INTERVAL_MS, notificationIntervalMs: WRITE_INTERVAL_MS },
    pollMs: 200,
  });
  const started = app;
  cleanups.unshift(() => started.stop());
  const server = await buildServer({ log, pool, registry, version: 'bench', units: [{ name: 'github', plugin: app.plugin }] });
  cleanups.unshift(() => server.close());
  const targets = await createTargetRegistry({ local: { stateDir: path.join(tmp, 'local') } }, { log });
  cleanups.unshift(() => targets.close());
  const reconciler = createReconciler({ pool, databaseUrl: url, targets, log, pollIntervalMs: 200 });
  await reconciler.start();
  cleanups.unshift(() => reconciler.stop());
  app.start();

  const deliver = async (event: string, payload: unknown) => {
    const d = signedDelivery(SECRET, event, payload, randomUUID());
    const res = await server.inject({ method: 'POST', url: '/api/github/webhooks', headers: d.headers, payload: d.body });
    if (res.statusCode !== 202) throw new Error(`delivery answered ${res.statusCode}`);
  };
  const waitFor = async <T>(what: string, since: number, probe: () => T | undefined): Promise<number> => {
    for (;;) {
      if (probe()) return performance.now() - since;
      if (performance.now() - since > LIMIT_MS) throw new Error(`${what} not seen within ${LIMIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  await deliver('installation', installationPayload({ action: 'created', installationId: REPO.installationId, account: 'acme', repositories: [REPO.fullName] }));
  const base = await commit('main', 'start');
  await deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: '0'.repeat(40), after: base }));
  const t0 = performance.now();
  await waitFor('production', t0, () => fake.state.deploymentsFor(REPO.fullName, 'production').at(-1)?.statuses.some((s) => s.state === 'success'));
  console.log(`production live in ${(performance.now() - t0).toFixed(0)} ms`);

  let idle = false;
  const watchIdle = setInterval(() => {
    void Promise.all([outbox.countPendingOutbox(pool, Object.values(OUTBOX_KINDS)), deliveries.countDeliveries(pool)])
      .then(([outbox, d]) => {
        idle = outbox === 0 && d.pending === 0 && d.processing === 0;
      })
      .catch(() => undefined);
  }, 50);
  cleanups.unshift(async () => clearInterval(watchIdle));
  const validate: number[] = [];
  const preview: number[] = [];
  const deployment: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    await git(work, 'checkout', '-q', '-B', `pr-${i}`, base);
    const head = await commit(`pr-${i}`, `change ${i}`, (s) => s.replace('Hello from Wharf', `Hello from PR ${i}`));
    // GitHub keeps the pull request's head at refs/pull/<n>/head, where Wharf fetches it.
    await publishPullHead({ base: path.join(root, 'acme', 'hello.git'), fork: work, branch: `pr-${i}`, number: i });
    const sent = performance.now();
    idle = false;
    await deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: i, headSha: head, headRef: `pr-${i}` }));
    validate.push(await waitFor('wharf/validate', sent, () => fake.state.latestCheckRun(REPO.fullName, head, 'wharf/validate')?.status === 'completed'));
    preview.push(
      await waitFor('wharf/preview', sent, () => {
        const run = fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview');
        if (run?.conclusion === 'failure') throw new Error(`preview failed: ${run.output.summary}`);
        return run?.conclusion === 'success' && /http:\/\//.test(run.output.title ?? '');
      }),
    );
    deployment.push(
      await waitFor('preview deployment status', sent, () =>
        fake.state.deploymentsFor(REPO.fullName, `preview/pr-${i}`).some((d) => d.sha === head && d.statuses.some((st) => st.state === 'success' && st.environment_url)),
      ),
    );
    const previewUrl = /Preview ready: (\S+)/.exec(fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview')?.output.title ?? '')?.[1] ?? '';
    const answer = await getViaLoopback(`${previewUrl.replace(/\/$/, '')}/hello`);
    if (!answer.includes(`Hello from PR ${i}`)) throw new Error(`the preview does not serve the pull request's version: ${answer.slice(0, 200)}`);
    console.log(
      `run ${i}: validate ${validate.at(-1)?.toFixed(0)} ms, preview ${preview.at(-1)?.toFixed(0)} ms, deployment ${deployment.at(-1)?.toFixed(0)} ms, ${previewUrl} answers ${JSON.stringify(answer.slice(0, 60))}`,
    );
    await deliver('pull_request', pullRequestPayload(REPO, { action: 'closed', number: i, headSha: head, headRef: `pr-${i}` }));
    // Each run starts from an idle App: the previous teardown's GitHub writes are out.
    idle = false;
    await new Promise((r) => setTimeout(r, 200));
    await waitFor('idle', performance.now(), () => idle);
  }
  if (fake.problems.length) console.log(`fake GitHub problems: ${fake.problems.join('; ')}`);
  console.log(
    JSON.stringify({
      bench: 'pr-to-preview',
      runs: RUNS,
      write_interval_ms: WRITE_INTERVAL_MS,
      validate_p50_ms: Math.round(pct(validate, 50)),
      validate_max_ms: Math.round(Math.max(...validate)),
      preview_p50_ms: Math.round(pct(preview, 50)),
      preview_max_ms: Math.round(Math.max(...preview)),
      deployment_p50_ms: Math.round(pct(deployment, 50)),
    }),
  );
} finally {
  for (const c of cleanups) await c().catch((err) => log.error({ err }, 'cleanup failed'));
}
