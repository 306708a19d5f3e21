/**
 * ingest-big: the memory high-water mark of Wharf's fetch side for repositories a stranger can make large.
 *
 * - push_1g: one push of a branch that adds 1 GiB of incompressible blobs, fetched with the default pack limit
 *   (256 MiB): refused as it streams in. Reports peak RSS, bytes read before the cut and whether anything was stored.
 * - branches_300_one: a repository with 300 branches (64 KiB of random bytes each, ~19 MiB in all): one push, one
 *   branch fetched.
 * - branches_300_all: the same repository, all 300 heads fetched one ref at a time (a first sync of a plain Git
 *   remote with branch previews).
 * - branches_300_old: the same, the way main fetched before (every branch in one fetch, `singleBranch: false`, no
 *   limit), for comparison.
 * - push_old (only with `--old-push`): the big push fetched the way main did, unbounded. It buffers the whole pack
 *   several times over: use it with a smaller `--big-mib` (e.g. 256) on a shared machine.
 *
 * Each case runs in a child process of its own (so its peak RSS, `process.resourceUsage().maxRSS`, is its own, and the
 * Git server's memory is not counted); the parent builds the repositories with `git fast-import` (blobs stored
 * uncompressed, no delta search: cheap to make and to serve), serves them over smart HTTP on loopback, and removes
 * everything at the end. Medians of `--rounds` (default 3). Bounded: refuses to start with under 3 GiB free in the
 * temp dir; gives up after 15 minutes.
 *   npm run bench -- ingest-big [--rounds 3] [--big-mib 1024] [--old-push]
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { repositories } from '@wharf/store';
import git from 'isomorphic-git';
import fs from 'node:fs';
import pino from 'pino';
import { createHttpClient, createRefusedPacks, DEFAULT_FETCH_LIMITS, DEFAULT_RETRY, fetchRefs, isFetchRefused, type RemoteDeps } from '@wharf/source/remote';

const MiB = 1024 * 1024;
const run = promisify(execFile);
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const gitCli = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd, env })).stdout.trim();
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const rssMb = (kb: number) => Math.round((kb / 1024) * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

type Case = 'push_1g' | 'push_old' | 'branches_300_one' | 'branches_300_all' | 'branches_300_old';

interface ChildReport {
  case: Case;
  baseline_rss_mb: number;
  peak_rss_mb: number;
  refused: boolean;
  received_mb: number;
  stored_packs: number;
  ms: number;
  error?: string;
}

// ---------------------------------------------------------------------------------------------------- child process
async function child(which: Case, url: string, cacheDir: string): Promise<void> {
  const baseline = process.resourceUsage().maxRSS;
  const repository = { id: 1, tenant_id: 1, provider: 'git', full_name: 'bench/app', url, default_branch: 'main', external_id: null } satisfies repositories.Repository;
  const deps: RemoteDeps = {
    log: pino({ level: 'warn' }),
    cacheDir,
    http: createHttpClient({ timeoutMs: 60_000 }),
    retry: { ...DEFAULT_RETRY, attempts: 1 },
    limits: DEFAULT_FETCH_LIMITS,
    refused: createRefusedPacks(),
  };
  const started = performance.now();
  let refused = false;
  let received = 0;
  let error: string | undefined;
  const gitdir = path.join(cacheDir, 'repo-1.git');
  try {
    if (which === 'push_1g') {
      // The cache already has main, as after earlier pushes; then the big push arrives.
      received += (await fetchRefs(deps, repository, ['refs/heads/main'])).receivedBytes;
      const packsBefore = (await readdir(path.join(gitdir, 'objects', 'pack'))).length;
      try {
        received += (await fetchRefs(deps, repository, ['refs/heads/big'])).receivedBytes;
      } catch (err) {
        if (!isFetchRefused(err)) throw err;
        refused = true;
        received += (err as { receivedBytes: number }).receivedBytes;
        error = (err as Error).message;
      }
      if (refused && (await readdir(path.join(gitdir, 'objects', 'pack'))).length !== packsBefore) throw new Error('a pack was stored');
    } else if (which === 'branches_300_one') {
      received += (await fetchRefs(deps, repository, ['refs/heads/b-150'])).receivedBytes;
    } else if (which === 'branches_300_all') {
      const refs = Array.from({ length: 300 }, (_, i) => `refs/heads/b-${i}`);
      received += (await fetchRefs(deps, repository, ['refs/heads/main', ...refs])).receivedBytes;
    } else if (which === 'push_old') {
      // main's way: the push fetched with every branch in one unbounded fetch.
      await git.init({ fs, dir: gitdir, bare: true, defaultBranch: 'main' });
      await git.addRemote({ fs, gitdir, remote: 'origin', url });
      await git.fetch({ fs, http: deps.http, gitdir, url, remote: 'origin', singleBranch: false, tags: false, prune: true });
      for (const name of await readdir(path.join(gitdir, 'objects', 'pack'))) {
        if (name.endsWith('.pack')) received += (await stat(path.join(gitdir, 'objects', 'pack', name))).size;
      }
    } else {
      await git.init({ fs, dir: gitdir, bare: true, defaultBranch: 'main' });
      await git.addRemote({ fs, gitdir, remote: 'origin', url });
      await git.fetch({ fs, http: deps.http, gitdir, url, remote: 'origin', singleBranch: false, tags: false, prune: true });
      // Bytes received ≈ the one pack written.
      for (const name of await readdir(path.join(gitdir, 'objects', 'pack'))) {
        if (name.endsWith('.pack')) received += (await stat(path.join(gitdir, 'objects', 'pack', name))).size;
      }
    }
  } catch (err) {
    error = (err as Error).message;
  }
  const storedPacks = existsSync(path.join(gitdir, 'objects', 'pack'))
    ? (await readdir(path.join(gitdir, 'objects', 'pack'))).filter((n) => n.endsWith('.pack')).length
    : 0;
  const report: ChildReport = {
    case: which,
    baseline_rss_mb: rssMb(baseline),
    peak_rss_mb: rssMb(process.resourceUsage().maxRSS),
    refused,
    received_mb: Math.round((received / MiB) * 10) / 10,
    stored_packs: storedPacks,
    ms: Math.round(performance.now() - started),
    ...(error ? { error } : {}),
  };
  console.log(JSON.stringify(report));
}

// --------------------------------------------------------------------------------------------------- parent process
/** Streams a fast-import program to a bare repository. `write` gets a writer that respects backpressure. */
async function fastImport(bare: string, produce: (write: (chunk: string | Buffer) => Promise<void>) => Promise<void>): Promise<void> {
  const proc = spawn('git', ['-c', 'pack.compression=0', '-c', 'core.bigFileThreshold=1m', 'fast-import', '--quiet'], {
    cwd: bare,
    env,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const closed = new Promise<void>((resolve, reject) => proc.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fast-import exited ${code}`)))));
  const write = (chunk: string | Buffer) =>
    new Promise<void>((resolve, reject) => {
      if (proc.stdin.write(chunk)) return resolve();
      const done = (err?: Error) => {
        proc.stdin.off('drain', done).off('error', done);
        if (err) reject(err);
        else resolve();
      };
      proc.stdin.on('drain', done).on('error', done);
    });
  await produce(write);
  proc.stdin.end();
  await closed;
}

const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
const app = 'apps:\n  - name: shop\n    files: ["apps/shop/*.yaml"]\n';
const workflow = 'modules:\n  - name: server\n    type: http.server\n    config:\n      address: ":8080"\n';

async function buildBig(bare: string, bigMib: number): Promise<void> {
  await fastImport(bare, async (write) => {
    await write(`commit refs/heads/main\nmark :1\ncommitter b <b@x> 1700000000 +0000\n${data('first')}M 100644 inline wharf.yaml\n${data(app)}M 100644 inline apps/shop/main.yaml\n${data(workflow)}`);
    await write(`commit refs/heads/big\ncommitter b <b@x> 1700000001 +0000\n${data('a 1 GiB push')}from :1\n`);
    const blob = 8 * MiB;
    for (let i = 0; i < bigMib / 8; i++) {
      await write(`M 100644 inline data/blob-${i}.bin\ndata ${blob}\n`);
      await write(randomBytes(blob));
      await write('\n');
    }
  });
}

async function buildBranches(bare: string): Promise<void> {
  await fastImport(bare, async (write) => {
    await write(`commit refs/heads/main\nmark :1\ncommitter b <b@x> 1700000000 +0000\n${data('first')}M 100644 inline wharf.yaml\n${data(app)}M 100644 inline apps/shop/main.yaml\n${data(workflow)}`);
    for (let i = 0; i < 300; i++) {
      const bytes = randomBytes(64 * 1024);
      await write(`commit refs/heads/b-${i}\ncommitter b <b@x> 1700000000 +0000\n${data(`b-${i}`)}from :1\nM 100644 inline data/b-${i}.bin\ndata ${bytes.length}\n`);
      await write(bytes);
      await write('\n');
    }
  });
}

async function runCase(which: Case, url: string, root: string): Promise<ChildReport> {
  const cacheDir = await mkdtemp(path.join(root, `cache-${which}-`));
  try {
    const proc = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', which, url, cacheDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
    if (code !== 0) throw new Error(`${which}: child exited ${code}`);
    return JSON.parse(out.trim().split('\n').pop() as string) as ChildReport;
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

async function parent(): Promise<void> {
  const rounds = arg('rounds', 3);
  const bigMib = arg('big-mib', 1024);
  const root = await mkdtemp(path.join(tmpdir(), 'wharf-bench-big-'));
  const deadline = setTimeout(() => {
    console.error('ingest-big: over 15 minutes, giving up');
    void rm(root, { recursive: true, force: true }).finally(() => process.exit(1));
  }, 15 * 60_000);
  deadline.unref();
  try {
    const free = await statfs(root);
    if (free.bavail * free.bsize < 3 * 1024 * MiB) throw new Error(`need 3 GiB free in ${tmpdir()}, have ${Math.round((free.bavail * free.bsize) / MiB)} MiB`);
    for (const name of ['big.git', 'many.git']) {
      await gitCli(root, 'init', '-q', '--bare', '-b', 'main', name);
      // Served as stored: no recompression, no delta search over random blobs.
      await gitCli(path.join(root, name), 'config', 'core.bigFileThreshold', '1m');
      await gitCli(path.join(root, name), 'config', 'pack.window', '0');
    }
    let t0 = performance.now();
    await buildBig(path.join(root, 'big.git'), bigMib);
    console.log(`built big.git (${bigMib} MiB branch) in ${Math.round(performance.now() - t0)} ms`);
    t0 = performance.now();
    await buildBranches(path.join(root, 'many.git'));
    console.log(`built many.git (300 branches) in ${Math.round(performance.now() - t0)} ms`);
    // Imported here only: the children measure Wharf's fetch code, not the test kit.
    const { startGitHttpServer } = await import('@wharf/testkit');
    const server = await startGitHttpServer(root);
    const results = new Map<Case, ChildReport[]>();
    try {
      for (let r = 0; r < rounds; r++) {
        for (const [which, repo] of [
          ['push_1g', 'big.git'],
          ...(process.argv.includes('--old-push') ? ([['push_old', 'big.git']] as const) : []),
          ['branches_300_one', 'many.git'],
          ['branches_300_all', 'many.git'],
          ['branches_300_old', 'many.git'],
        ] as const) {
          const report = await runCase(which, `${server.url}/${repo}`, root);
          console.log(JSON.stringify({ round: r + 1, ...report }));
          if (report.error && !report.refused) throw new Error(`${which}: ${report.error}`);
          results.set(which, [...(results.get(which) ?? []), report]);
        }
      }
    } finally {
      await server.close();
    }
    const med = (which: Case, key: 'peak_rss_mb' | 'baseline_rss_mb' | 'received_mb' | 'ms') => median((results.get(which) ?? []).map((x) => x[key]));
    const push = results.get('push_1g') ?? [];
    console.log(
      JSON.stringify({
        bench: 'ingest-big',
        rounds,
        peak_rss_mb: med('push_1g', 'peak_rss_mb'),
        refused: push.every((x) => x.refused),
        stored_packs_after_refusal: Math.max(...push.map((x) => x.stored_packs)),
        push_1g_branch_mib: bigMib,
        push_1g_limit_mib: DEFAULT_FETCH_LIMITS.maxPackBytes / MiB,
        push_1g_received_mb: med('push_1g', 'received_mb'),
        push_1g_ms: med('push_1g', 'ms'),
        baseline_rss_mb: med('push_1g', 'baseline_rss_mb'),
        branches_300_one_peak_rss_mb: med('branches_300_one', 'peak_rss_mb'),
        branches_300_one_received_mb: med('branches_300_one', 'received_mb'),
        branches_300_all_peak_rss_mb: med('branches_300_all', 'peak_rss_mb'),
        branches_300_all_ms: med('branches_300_all', 'ms'),
        branches_300_old_peak_rss_mb: med('branches_300_old', 'peak_rss_mb'),
        branches_300_old_ms: med('branches_300_old', 'ms'),
        ...(results.has('push_old') ? { push_old_peak_rss_mb: med('push_old', 'peak_rss_mb'), push_old_received_mb: med('push_old', 'received_mb') } : {}),
      }),
    );
  } finally {
    clearTimeout(deadline);
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3] as Case, process.argv[4] as string, process.argv[5] as string);
else await parent();
