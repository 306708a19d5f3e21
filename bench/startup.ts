/**
 * `npm start` to /readyz 200: the first start (initdb) and warm starts (an existing cluster), each a fresh
 * `wharf up` process, timed from spawn to the first 200 from /readyz. Bounded: 1 first start, 5 warm starts,
 * 60 s per start at most.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startWharf } from '@wharf/testkit';

const WARM_RUNS = Number(process.argv[2] ?? 5);

async function timeToReady(cwd: string): Promise<number> {
  const started = performance.now();
  const p = startWharf(['up'], { cwd, env: { WHARF_PORT: '0' } });
  const [, url] = await p.waitFor(/Wharf is up at (http:\/\/\S+)/, 60_000);
  for (;;) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) break;
    if (performance.now() - started > 60_000) throw new Error('not ready within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - started;
  p.child.kill('SIGTERM');
  const { code } = await p.exited;
  if (code !== 0) throw new Error(`wharf up exited ${code}: ${p.output()}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const cwd = await mkdtemp(path.join(tmpdir(), 'wharf-bench-startup-'));
await chmod(cwd, 0o755);
try {
  const first = await timeToReady(cwd);
  console.log(`first start (initdb): ${first.toFixed(0)} ms`);
  const warm: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    warm.push(await timeToReady(cwd));
    console.log(`warm start ${i + 1}: ${warm[i]?.toFixed(0)} ms`);
  }
  console.log(
    JSON.stringify({
      bench: 'startup',
      first_start_ms: Math.round(first),
      warm_start_ms: Math.round(median(warm)),
      warm_runs: warm.map(Math.round),
    }),
  );
} finally {
  await rm(cwd, { recursive: true, force: true });
}
