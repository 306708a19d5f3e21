/**
 * One new commit into a cached clone of a repository with 5,000 commits and 200 app files (20 apps × 10 files),
 * served over smart HTTP by `git http-backend` on loopback.
 *
 * wharf_ms: `checkRemote` end to end (ask the remote for its heads, fetch the new commit into the cache clone with
 * isomorphic-git, diff the trees, read and validate the one changed app, record the version, move production's
 * desired state). git_cli_ms, the baseline, in the same run: `git fetch` into a CLI clone plus `git show` of the
 * same app's files at the new commit. Medians of ROUNDS rounds, one new commit each. Bounded: about 30 s.
 * Last line: one JSON object.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createSource } from '@wharf/source';
import { desiredState, scopeOf, repositories, tenants } from '@wharf/store';
import { startGitHttpServer } from '@wharf/testkit';
import pino from 'pino';
import { benchDatabase, percentile } from '@wharf/testkit';

const COMMITS = 5000;
const APPS = 20;
const FILES_PER_APP = 10;
const ROUNDS = 7;
const run = promisify(execFile);
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@x' };
const git = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd, env, maxBuffer: 256 * 1024 * 1024 })).stdout.trim();

const fileContent = (app: number, file: number, rev: number) =>
  `# app ${app} file ${file}\nmodules:\n  - name: m${file}-r${rev}\n    type: http.server\n    config:\n      address: ":${8000 + file}"\n`;
const filePath = (app: number, file: number) => `apps/app-${String(app).padStart(2, '0')}/f${String(file).padStart(2, '0')}.yaml`;
const manifest = () =>
  `apps:\n${Array.from({ length: APPS }, (_, a) => `  - name: app-${String(a).padStart(2, '0')}\n    files: ["apps/app-${String(a).padStart(2, '0')}/*.yaml"]\n`).join('')}`;

/** Builds the history with `git fast-import`: commit 1 adds every file, each later commit edits one file. */
async function buildHistory(bare: string): Promise<void> {
  const child = spawn('git', ['fast-import', '--quiet'], { cwd: bare, env, stdio: ['pipe', 'ignore', 'inherit'] });
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  const chunks: string[] = [];
  for (let c = 1; c <= COMMITS; c++) {
    chunks.push(`commit refs/heads/main\nmark :${c}\ncommitter b <b@x> ${1_700_000_000 + c} +0000\n${data(`commit ${c}`)}`);
    if (c > 1) chunks.push(`from :${c - 1}\n`);
    if (c === 1) {
      chunks.push(`M 100644 inline wharf.yaml\n${data(manifest())}`);
      for (let a = 0; a < APPS; a++) for (let f = 0; f < FILES_PER_APP; f++) chunks.push(`M 100644 inline ${filePath(a, f)}\n${data(fileContent(a, f, 0))}`);
    } else {
      const n = c % (APPS * FILES_PER_APP);
      const a = Math.floor(n / FILES_PER_APP);
      const f = n % FILES_PER_APP;
      chunks.push(`M 100644 inline ${filePath(a, f)}\n${data(fileContent(a, f, c))}`);
    }
    if (chunks.length > 500) child.stdin.write(chunks.splice(0).join(''));
  }
  child.stdin.end(chunks.join(''));
  await new Promise<void>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import ${code}`)))));
  await git(bare, 'gc', '-q');
}

const db = await benchDatabase(process.env.DATABASE_URL, { poolSize: 10 });
const root = await mkdtemp(path.join(tmpdir(), 'wharf-bench-remote-'));
const log = pino({ level: process.env.WHARF_LOG_LEVEL ?? 'warn' });
try {
  const bare = path.join(root, 'app.git');
  await git(root, 'init', '-q', '--bare', '-b', 'main', bare);
  const built = performance.now();
  await buildHistory(bare);
  console.log(`history: ${COMMITS} commits, ${APPS * FILES_PER_APP} app files in ${Math.round(performance.now() - built)} ms`);
  const work = path.join(root, 'work');
  await git(root, 'clone', '-q', bare, work);
  const cli = path.join(root, 'cli-clone');

  const server = await startGitHttpServer(root);
  const url = `${server.url}/app.git`;
  await git(root, 'clone', '-q', '--bare', url, cli);

  const tenant = await tenants.upsertTenant(db.pool, { kind: 'local', externalId: 'bench', name: 'bench' });
  const repository = await repositories.upsertRepository(db.pool, { tenantId: tenant.id, provider: 'git', fullName: 'bench/app', url, defaultBranch: 'main' });
  const source = createSource({ pool: db.pool, cacheDir: path.join(root, 'cache'), log });
  const cloned = performance.now();
  await source.checkRemote(repository);
  console.log(`first clone and sync (not measured): ${Math.round(performance.now() - cloned)} ms`);

  const wharf: number[] = [];
  const cliTimes: number[] = [];
  let validated = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const app = round % APPS;
    await run('sh', ['-c', `printf '%s' "$1" > "$2"`, 'sh', fileContent(app, 3, 100_000 + round), path.join(work, filePath(app, 3))]);
    await git(work, 'commit', '-qam', `round ${round}`);
    await git(work, 'push', '-q', 'origin', 'main');
    const sha = await git(work, 'rev-parse', 'HEAD');

    const t0 = performance.now();
    const result = await source.checkRemote(repository);
    wharf.push(performance.now() - t0);
    validated += result.sync?.ingested[0]?.validated.length ?? 0;
    const prod = (await desiredState.listRepositoryEnvironments(db.pool, scopeOf(repository))).find((e) => e.name === `production` && e.app === `app-${String(app).padStart(2, '0')}`);
    if (prod?.desired_spec?.version.sha !== sha) throw new Error(`round ${round}: production did not move to ${sha}: ${JSON.stringify({ moved: result.moved, ingested: result.sync?.ingested.map((i) => [i.version.sha, i.version.valid, i.validated, i.version.diagnostics]), prod: [prod?.desired_spec?.version, prod?.conditions] })}`);

    const t1 = performance.now();
    await git(cli, 'fetch', '-q', 'origin', '+refs/heads/*:refs/heads/*');
    await Promise.all(Array.from({ length: FILES_PER_APP }, (_, f) => git(cli, 'show', `${sha}:${filePath(app, f)}`)));
    cliTimes.push(performance.now() - t1);
  }
  await server.close();
  const wharfMs = percentile(wharf, 50);
  const gitMs = percentile(cliTimes, 50);
  const round1 = (n: number) => Math.round(n * 10) / 10;
  console.log(`wharf rounds (ms): ${wharf.map(round1).join(', ')}`);
  console.log(`git CLI rounds (ms): ${cliTimes.map(round1).join(', ')}`);
  console.log(
    JSON.stringify({
      bench: 'ingest-remote',
      commits: COMMITS,
      app_files: APPS * FILES_PER_APP,
      rounds: ROUNDS,
      wharf_ms: round1(wharfMs),
      git_cli_ms: round1(gitMs),
      ratio: Math.round((wharfMs / gitMs) * 100) / 100,
      apps_validated_per_commit: validated / ROUNDS,
    }),
  );
} finally {
  await rm(root, { recursive: true, force: true });
  await db.close();
}
