/**
 * Commit in the watched repository → the router serves the new version. Runs `wharf up --repo` on a copy of
 * examples/hello-api, then commits a new greeting on main RUNS times (default 30) and times each commit until
 * production answers with it. Bounded: 30 s per run at most.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, startWharf } from '@wharf/testkit';

const run = promisify(execFile);
const RUNS = Number(process.argv[2] ?? 30);
const PER_RUN_LIMIT_MS = 30_000;

const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-push-'));
await chmod(dir, 0o755);
const repo = path.join(dir, 'repo');
await cp(path.join(REPO_ROOT, 'examples/hello-api'), repo, { recursive: true });
const git = (...args: string[]) =>
  run('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], { cwd: repo });
await git('init', '-q', '-b', 'main');
await git('add', '-A');
await git('commit', '-qm', 'start');

const wharf = startWharf(['up', '--repo', repo], {
  cwd: dir,
  env: { WHARF_PORT: '0', WHARF_ROUTER_PORT: '0', DATABASE_URL: process.env.DATABASE_URL },
});
try {
  const [, router] = await wharf.waitFor(/router\s+(http:\/\/\S+)/, 120_000);
  const url = `${router}/hello-api/production/hello`;
  const waitForMessage = async (expected: string, since: number) => {
    for (;;) {
      const body = await fetch(url)
        .then((r) => r.text())
        .catch(() => '');
      if (body.includes(expected)) return performance.now() - since;
      if (performance.now() - since > PER_RUN_LIMIT_MS) throw new Error(`no "${expected}" within ${PER_RUN_LIMIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await waitForMessage('Hello from Wharf', performance.now());
  const file = path.join(repo, 'workflow.yaml');
  const original = await readFile(file, 'utf8');
  const samples: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const message = `Hello from push ${i}`;
    await writeFile(file, original.replace('Hello from Wharf', message));
    await git('commit', '-qam', `push ${i}`);
    const committed = performance.now();
    samples.push(await waitForMessage(message, committed));
    console.log(`run ${i}: ${samples[i - 1]?.toFixed(0)} ms`);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  console.log(
    JSON.stringify({
      bench: 'push-to-live',
      runs: RUNS,
      p50_ms: Math.round(pct(50)),
      p95_ms: Math.round(pct(95)),
      max_ms: Math.round(sorted[sorted.length - 1] ?? Number.NaN),
    }),
  );
} finally {
  wharf.child.kill('SIGTERM');
  await wharf.exited;
  await rm(dir, { recursive: true, force: true });
}
