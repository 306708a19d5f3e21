/**
 * A monorepo with 100 apps (3 files each) and a commit touching one of them: how many apps are read and validated
 * (must be exactly 1), and how long the sync takes next to the first sync that had to read all 100.
 * Local mode (the working copy is read in place). ROUNDS commits, each touching a different app.
 * Bounded: about 15 s. Last line: one JSON object.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createSource } from '@wharf/source';
import { repositories, tenants } from '@wharf/store';
import pino from 'pino';
import { benchDatabase, percentile } from '@wharf/testkit';

const APPS = 100;
const FILES = 3;
const ROUNDS = 10;
const run = promisify(execFile);
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' };
const git = (cwd: string, ...args: string[]) => run('git', args, { cwd, env });
const name = (a: number) => `svc-${String(a).padStart(3, '0')}`;
const config = (a: number, f: number, rev: number) =>
  `modules:\n  - name: m${f}-r${rev}\n    type: http.server\n    config:\n      address: ":${9000 + a}"\n`;

const db = await benchDatabase(process.env.DATABASE_URL, { poolSize: 10 });
const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-mono-'));
const log = pino({ level: 'warn' });
try {
  await git(dir, 'init', '-q', '-b', 'main');
  await writeFile(
    path.join(dir, 'wharf.yaml'),
    `apps:\n${Array.from({ length: APPS }, (_, a) => `  - name: ${name(a)}\n    files: ["services/${name(a)}/**/*.yaml"]\n`).join('')}`,
  );
  for (let a = 0; a < APPS; a++) {
    await mkdir(path.join(dir, 'services', name(a)), { recursive: true });
    for (let f = 0; f < FILES; f++) await writeFile(path.join(dir, 'services', name(a), `f${f}.yaml`), config(a, f, 0));
  }
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', 'monorepo');

  const tenant = await tenants.upsertTenant(db.pool, { kind: 'local', externalId: 'bench', name: 'bench' });
  const repository = await repositories.upsertRepository(db.pool, { tenantId: tenant.id, provider: 'local', fullName: 'mono', url: dir, defaultBranch: 'main' });
  const source = createSource({ pool: db.pool, cacheDir: path.join(dir, '.cache'), log });
  const t0 = performance.now();
  const first = await source.syncLocalRepository(repository, dir);
  const firstMs = performance.now() - t0;

  const validated: number[] = [];
  const times: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const a = (r * 37) % APPS;
    await writeFile(path.join(dir, 'services', name(a), 'f1.yaml'), config(a, 1, r));
    await git(dir, 'commit', '-qam', `touch ${name(a)}`);
    const t1 = performance.now();
    const result = await source.syncLocalRepository(repository, dir);
    times.push(performance.now() - t1);
    const ingested = result.ingested[0];
    validated.push(ingested?.validated.length ?? -1);
    if (ingested?.validated[0] !== name(a)) throw new Error(`round ${r}: expected ${name(a)} validated, got ${ingested?.validated}`);
    const moved = result.changes.filter((c) => c.outcome === 'updated').map((c) => c.app);
    if (moved.length !== 1 || moved[0] !== name(a)) throw new Error(`round ${r}: expected only ${name(a)} to move, got ${moved}`);
  }
  const round1 = (n: number) => Math.round(n * 10) / 10;
  console.log(`first sync read ${first.ingested[0]?.validated.length} apps in ${round1(firstMs)} ms; one-app commits: ${times.map(round1).join(', ')} ms`);
  console.log(
    JSON.stringify({
      bench: 'monorepo-one-app',
      apps: APPS,
      rounds: ROUNDS,
      apps_validated: Math.max(...validated),
      environments_moved_per_commit: 1,
      first_sync_ms: round1(firstMs),
      one_app_sync_p50_ms: round1(percentile(times, 50)),
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
  await db.close();
}
