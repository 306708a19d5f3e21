/**
 * How many of the engine's 31 example configs the reference runtime starts and answers. Each example is started
 * as targets start it (`node` on the runtime bundle, a port of its own, a digest), its health path is asked for
 * the digest, and every HTTP route it declares (pipeline triggers, workflows.http.routes, triggers.http) gets one
 * request; a route "answers" when the reply is neither 404 nor 5xx (401 from an auth middleware counts: the
 * route is there and guarded). Examples the runtime refuses are listed with the first line of why.
 * Bounded: 31 starts, at most 15 s each. Last line: one JSON object.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { RUNTIME_HEALTH_PATH } from '@wharf/contracts/runtime-protocol';
import { describeRoutes, loadConfig, runtimeLaunchCommand } from '@wharf/runtime';

const DIR = path.resolve(import.meta.dirname, '..', 'packages', 'contracts', 'test', 'fixtures', 'upstream');

type Outcome = { file: string; started: boolean; ms: number; routes: number; answered: number; why: string };

async function start(argv: string[]): Promise<{ child: ChildProcess; url: string | null; ms: number; stderr: () => string }> {
  const t0 = performance.now();
  const [command = process.execPath, ...args] = argv;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' } });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
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
  return { child, url, ms: performance.now() - t0, stderr: () => err };
}

const launch = await runtimeLaunchCommand();
const files = (await readdir(DIR)).filter((f) => f.endsWith('.yaml')).sort();
const outcomes: Outcome[] = [];
for (const file of files) {
  const config = path.join(DIR, file);
  const rt = await start([...launch, '--config', config, '--port', '0', '--digest', `sha256:${file}`]);
  if (!rt.url) {
    if (rt.child.exitCode === null) rt.child.kill('SIGKILL');
    const why = rt.stderr().replace(/^wharf-runtime: invalid workflow config:\s*/, '').split('\n').map((l) => l.replace(/^\s*- /, '')).find((l) => l.trim()) ?? 'no listening line';
    outcomes.push({ file, started: false, ms: rt.ms, routes: 0, answered: 0, why });
    console.log(`refused  ${file}: ${why.slice(0, 150)}`);
    continue;
  }
  const health = (await (await fetch(`${rt.url}${RUNTIME_HEALTH_PATH}`)).json()) as { digest?: string };
  let answered = 0;
  const routes = describeRoutes(await loadConfig([config], {}));
  for (const r of routes) {
    const res = await fetch(`${rt.url}${r.path.replace(/\{[^}]+\}|:[A-Za-z_]\w*/g, '1')}`, {
      method: r.method,
      headers: r.method === 'GET' || r.method === 'HEAD' ? {} : { 'content-type': 'application/json' },
      body: r.method === 'GET' || r.method === 'HEAD' ? undefined : '{}',
    });
    await res.arrayBuffer();
    if (res.status !== 404 && res.status < 500) answered++;
  }
  const exited = once(rt.child, 'exit');
  rt.child.kill('SIGTERM');
  await exited;
  const ok = health.digest === `sha256:${file}`;
  outcomes.push({ file, started: ok, ms: rt.ms, routes: routes.length, answered, why: ok ? '' : 'wrong digest' });
  console.log(`started  ${file}: ${Math.round(rt.ms)} ms, ${answered}/${routes.length} routes answer`);
}

const started = outcomes.filter((o) => o.started);
const starts = started.map((o) => o.ms).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    bench: 'upstream-examples',
    started: started.length,
    total: files.length,
    refused: outcomes.length - started.length,
    routes: started.reduce((n, o) => n + o.routes, 0),
    routes_answered: started.reduce((n, o) => n + o.answered, 0),
    start_ms_median: Math.round(starts[Math.floor(starts.length / 2)] ?? 0),
    loadavg_1m: Number(loadavg()[0].toFixed(2)),
  }),
);
