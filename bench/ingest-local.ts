/**
 * Local mode, commit on disk → version recorded and generation bumped. A working copy with one app is watched
 * (chokidar, debounced); 50 commits are made one after another with the git CLI, each waiting for the
 * `NOTIFY wharf_environments` of production's new generation (sent when the transaction that recorded the version
 * and bumped generation commits). Latency is measured from the start of `git commit` (so it includes git's own
 * time) to the notification. Bounded: 50 commits, about 10 s. Last line: one JSON object.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createSource } from '@wharf/source';
import { desiredState, scopeOf, listen, repositories, sql, tenants } from '@wharf/store';
import pino from 'pino';
import { benchDatabase, percentile } from '@wharf/testkit';

const COMMITS = 50;
const run = promisify(execFile);
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' };
const git = (cwd: string, ...args: string[]) => run('git', args, { cwd, env });
const workflow = (port: number) =>
  `modules:\n  - name: server\n    type: http.server\n    config:\n      address: ":${port}"\n  - name: router\n    type: http.router\n    dependsOn: [server]\n`;

const db = await benchDatabase(process.env.DATABASE_URL, { poolSize: 10 });
const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-local-'));
const log = pino({ level: 'warn' });
try {
  await git(dir, 'init', '-q', '-b', 'main');
  await writeFile(path.join(dir, 'wharf.yaml'), 'apps:\n  - name: shop\n    files: ["shop/*.yaml"]\n');
  await run('mkdir', ['-p', path.join(dir, 'shop')]);
  await writeFile(path.join(dir, 'shop', 'main.yaml'), workflow(1000));
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', 'init');

  const tenant = await tenants.upsertTenant(db.pool, { kind: 'local', externalId: 'bench', name: 'bench' });
  const repository = await repositories.upsertRepository(db.pool, { tenantId: tenant.id, provider: 'local', fullName: 'bench', url: dir, defaultBranch: 'main' });
  const source = createSource({ pool: db.pool, cacheDir: path.join(dir, '.cache'), log });
  const watcher = await source.watchLocalRepository({ repository, path: dir, debounceMs: 15 });
  const prod = (await desiredState.listRepositoryEnvironments(db.pool, scopeOf(repository))).find((e) => e.name === 'production');
  if (!prod) throw new Error('no production environment after the first sync');

  let waiting: (() => void) | undefined;
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  const listener = listen(db.url, ['wharf_environments'], (_c, payload) => {
    if (payload === 'ready') listening();
    if (payload === String(prod.id)) waiting?.();
  }, log);
  const probe = setInterval(() => void db.pool.query(sql.unsafe`SELECT pg_notify('wharf_environments', 'ready')`), 50);
  await ready;
  clearInterval(probe);

  const latencies: number[] = [];
  for (let i = 1; i <= COMMITS; i++) {
    await writeFile(path.join(dir, 'shop', 'main.yaml'), workflow(1000 + i));
    await git(dir, 'add', '-A');
    const notified = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`commit ${i}: no notification within 5 s`)), 5000);
      waiting = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const started = performance.now();
    await git(dir, 'commit', '-qm', `commit ${i}`);
    await notified;
    latencies.push(performance.now() - started);
  }
  const final = (await desiredState.listRepositoryEnvironments(db.pool, scopeOf(repository))).find((e) => e.name === 'production');
  await watcher.close();
  await listener.close();
  const round = (n: number) => Math.round(n * 10) / 10;
  console.log(`commits: ${COMMITS}, production generation ${final?.generation} (expected ${COMMITS + 1})`);
  console.log(
    JSON.stringify({
      bench: 'ingest-local',
      commits: COMMITS,
      p50_ms: round(percentile(latencies, 50)),
      p95_ms: round(percentile(latencies, 95)),
      max_ms: round(Math.max(...latencies)),
      generation_bumps: (final?.generation ?? 0) - 1,
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
  await db.close();
}
