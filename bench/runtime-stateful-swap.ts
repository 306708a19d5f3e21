/**
 * The swap of a stateful environment (SQLite in its stable data dir), stop-then-start, as docs/runtime.md decides:
 * a runtime holding SQLite files owns its data dir (this SQLite build runs WAL with exclusive locking: there is
 * no shared memory for two processes), so the next version starts after the old one exits. Measured, median of
 * 5 swaps of a 50-row app:
 *  - gap_ms: from SIGTERM to the old runtime until the new one prints its listening line (no process serves);
 *  - stop_ms: SIGTERM → old process exited (drain, close SQLite, release the data dir);
 *  - start_ms: spawn of the new one → listening, on the same data dir;
 *  - refused_overlap: a new runtime started while the old one runs is refused (1) rather than sharing the file.
 * Every swap checks that the rows written before it are served after it. Bounded: about 15 s. Last line: JSON.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { runtimeLaunchCommand } from '@wharf/runtime';

const APP = `
modules:
  - { name: db, type: storage.sqlite, config: { dbPath: app.db } }
pipelines:
  init:
    trigger: { type: http, config: { path: /init, method: POST } }
    steps:
      - { name: ddl, type: step.db_exec, config: { database: db, query: "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)" } }
      - { name: fill, type: step.db_exec, config: { database: db, query: "INSERT INTO notes (body) SELECT 'note ' || value FROM (WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 50) SELECT value FROM n)" } }
      - { name: ok, type: step.json_response, config: { status: 201, body: { ok: true } } }
  count:
    trigger: { type: http, config: { path: /count } }
    steps:
      - { name: q, type: step.db_query, config: { database: db, mode: single, query: "SELECT count(*) AS n FROM notes" } }
      - { name: ok, type: step.json_response, config: { body_from: steps.q.row } }
`;

type Proc = { child: ChildProcess; url: string | null; ms: number };

async function start(argv: string[]): Promise<Proc> {
  const t0 = performance.now();
  const [command = process.execPath, ...args] = argv;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' } });
  let out = '';
  const url = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 15_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /^listening (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
  return { child, url, ms: performance.now() - t0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-swap-'));
try {
  const config = path.join(dir, 'app.yaml');
  await writeFile(config, APP);
  const dataDir = path.join(dir, 'data');
  const launch = await runtimeLaunchCommand();
  const argv = (digest: string, extra: string[] = []) => [...launch, '--config', config, '--port', '0', '--data-dir', dataDir, '--digest', digest, ...extra];

  let current = await start(argv('v0'));
  if (!current.url) throw new Error('the first runtime did not start');
  await fetch(`${current.url}/init`, { method: 'POST' });
  const overlap = await start(argv('overlap', ['--data-dir-wait', '0s']));
  const refusedOverlap = overlap.url === null && overlap.child.exitCode === 1 ? 1 : 0;
  if (overlap.url) overlap.child.kill('SIGKILL');

  const gaps: number[] = [];
  const stops: number[] = [];
  const starts: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const t0 = performance.now();
    const exited = once(current.child, 'exit');
    current.child.kill('SIGTERM');
    await exited;
    stops.push(performance.now() - t0);
    const next = await start(argv(`v${i}`));
    if (!next.url) throw new Error(`version ${i} did not start`);
    gaps.push(performance.now() - t0);
    starts.push(next.ms);
    const { n } = (await (await fetch(`${next.url}/count`)).json()) as { n: number };
    if (n !== 50) throw new Error(`version ${i} serves ${n} rows, not 50`);
    current = next;
  }
  const exited = once(current.child, 'exit');
  current.child.kill('SIGTERM');
  await exited;
  console.log(`swaps: gap ${gaps.map(Math.round).join(', ')} ms (stop ${stops.map(Math.round).join(', ')} + start ${starts.map(Math.round).join(', ')}); every version served the same 50 rows`);
  console.log(
    JSON.stringify({
      bench: 'runtime-stateful-swap',
      gap_ms: Math.round(median(gaps)),
      stop_ms: Math.round(median(stops)),
      start_ms: Math.round(median(starts)),
      refused_overlap: refusedOverlap,
      swaps: gaps.length,
      loadavg_1m: Number(loadavg()[0].toFixed(2)),
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
