/**
 * The reference runtime under load. Generates a 50-pipeline SQLite app, then measures:
 *  - start_ms: spawn of the runtime as targets start it (`node` on the esbuild bundle, runtimeLaunchCommand) to its
 *    "listening" line (median of 5 starts), each a new version of the config on the environment's stable data dir,
 *    as every rollout after the first starts; restart_ms: the same version started again (a crash restart: the
 *    parsed config comes from the data dir); first_start_ms: a new environment (empty data dir); boot_ms is plain
 *    `node` running a script that does nothing, so start_ms − boot_ms is the runtime's own share;
 *    inprocess_start_ms: createRuntime() (load config, open SQLite, build 50 pipelines, listen) inside an already-booted process.
 *  - json_rps: a json_response route with a templated body; sqlite_rps: a db_query single-row route on SQLite.
 *    autocannon on loopback, 50 connections, 1 s warm-up then 8 s measured each, runtime in its own process.
 * The machine may be shared: start_cpu_ms and *_rps_per_core (requests per CPU-second the runtime process used) do not
 * depend on other load; loadavg_1m says how busy the machine was.
 * Bounded: about 40 s in all. Last line: one JSON object.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createRuntime, runtimeLaunchCommand } from '@wharf/runtime';

type AutocannonResult = { requests: { average: number; total: number }; non2xx: number; errors: number; timeouts: number; latency: { p99: number } };
const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<AutocannonResult>;

const PIPELINES = 50;
const MEASURE_S = Number(process.env.BENCH_SECONDS ?? 8);

function appYaml(): string {
  const lines = [
    'name: bench-app',
    'modules:',
    '  - { name: server, type: http.server, config: { address: ":8080" } }',
    '  - { name: router, type: http.router }',
    '  - { name: db, type: storage.sqlite, config: { dbPath: bench.db } }',
    'pipelines:',
    '  seed:',
    '    trigger: { type: http, config: { path: /seed, method: POST } }',
    '    steps:',
    '      - { name: ddl, type: step.db_exec, config: { database: db, query: "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, price REAL, created_at TEXT DEFAULT (datetime(\'now\')))" } }',
    '      - { name: fill, type: step.db_exec, config: { database: db, query: "INSERT INTO items (name, price) SELECT \'item \' || value, value * 1.5 FROM (WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 200) SELECT value FROM n)" } }',
    '      - { name: ok, type: step.json_response, config: { status: 201, body: { seeded: "{{ .steps.fill.affected_rows }}" } } }',
    '  hello:',
    '    trigger: { type: http, config: { path: /hello, method: GET } }',
    '    steps:',
    '      - { name: q, type: step.request_parse, config: { query_params: [name] } }',
    '      - { name: r, type: step.json_response, config: { body: { message: "hello {{ .query.name | default \\"world\\" }}", service: bench, ok: true } } }',
    '  get-item:',
    '    trigger: { type: http, config: { path: "/items/{id}", method: GET } }',
    '    steps:',
    '      - { name: p, type: step.request_parse, config: { path_params: [id] } }',
    '      - { name: q, type: step.db_query, config: { database: db, mode: single, query: "SELECT id, name, price, created_at FROM items WHERE id = ?", params: ["{{ .path_params.id }}"] } }',
    '      - { name: r, type: step.json_response, config: { body_from: steps.q.row } }',
  ];
  for (let i = 3; i < PIPELINES; i++) {
    lines.push(
      `  route-${i}:`,
      `    trigger: { type: http, config: { path: "/r${i}/{id}", method: ${i % 2 ? 'POST' : 'GET'} } }`,
      '    steps:',
      '      - { name: parse, type: step.request_parse, config: { path_params: [id], parse_body: true } }',
      '      - { name: check, type: step.validate, config: { strategy: required_fields, required_fields: [path_params] } }',
      `      - { name: s, type: step.set, config: { values: { label: "{{ printf \\"%s-%d\\" .path_params.id ${i} }}", when: "{{ now }}" } } }`,
      '      - { name: branch, type: step.conditional, config: { field: path_params.id, routes: { "0": zero }, default: list } }',
      '      - { name: zero, type: step.json_response, config: { status: 404, body: { error: "none" } } }',
      '      - { name: list, type: step.db_query, config: { database: db, query: "SELECT id, name FROM items WHERE id > ? LIMIT 5", params: ["{{ .path_params.id }}"] } }',
      '      - { name: out, type: step.json_response, config: { body: { label: "{{ .label }}", rows: { _from: steps.list.rows } } } }',
    );
  }
  return `${lines.join('\n')}\n`;
}

type Proc = { child: ChildProcess; url: string; ms: number; cpuMs: number };

/** CPU time (user + system, all threads) a process has used so far, from /proc: robust to other load on the machine. */
async function cpuMsOf(pid: number | undefined): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function spawnUntilListening(argv: string[]): Promise<Proc> {
  const started = performance.now();
  const [command = process.execPath, ...args] = argv;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 30 s: ${err}`)), 30_000);
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /listening (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  const ms = performance.now() - started;
  return { child, url, ms, cpuMs: await cpuMsOf(child.pid).catch(() => Number.NaN) };
}

async function stop(p: Proc) {
  const exited = once(p.child, 'exit');
  p.child.kill('SIGTERM');
  await exited;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n: number) => Math.round(n);

const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-runtime-'));
try {
  const config = path.join(dir, 'app.yaml');
  await writeFile(config, appYaml());
  const launch = await runtimeLaunchCommand();
  const noop = path.join(dir, 'noop.mjs');
  await writeFile(noop, "process.stdout.write('listening http://none\\n');\n");

  const boot: number[] = [];
  const starts: number[] = [];
  const startCpu: number[] = [];
  const restarts: number[] = [];
  const firstStarts: number[] = [];
  const stableDir = path.join(dir, 'stable');
  for (let i = 0; i < 5; i++) {
    const b = await spawnUntilListening([process.execPath, noop]);
    boot.push(b.ms);
    if (b.child.exitCode === null && b.child.signalCode === null) await once(b.child, 'exit');
    if (i < 3) {
      const first = await spawnUntilListening([...launch, '--config', config, '--port', '0', '--data-dir', path.join(dir, `first-${i}`)]);
      firstStarts.push(first.ms);
      await stop(first);
    }
    // A new version: the text differs, so nothing parsed before applies.
    const version = path.join(dir, `app-v${i}.yaml`);
    await writeFile(version, `${appYaml()}# version ${i}\n`);
    const p = await spawnUntilListening([...launch, '--config', version, '--port', '0', '--data-dir', stableDir]);
    starts.push(p.ms);
    startCpu.push(p.cpuMs);
    await stop(p);
    const again = await spawnUntilListening([...launch, '--config', version, '--port', '0', '--data-dir', stableDir]);
    restarts.push(again.ms);
    await stop(again);
  }
  const inproc: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const rt = await createRuntime({ configFiles: [config], port: 0, dataDir: path.join(dir, `inproc-${i}`) });
    inproc.push(performance.now() - t0);
    await rt.close();
  }
  console.log(
    `start: spawn→listening ${starts.map(round).join(', ')} ms (CPU ${startCpu.map(round).join(', ')} ms); restart of the same version ${restarts.map(round).join(', ')} ms; on an empty data dir ${firstStarts.map(round).join(', ')} ms; node boot alone ${boot.map(round).join(', ')} ms; createRuntime ${inproc.map(round).join(', ')} ms`,
  );

  const rt = await spawnUntilListening([...launch, '--config', config, '--port', '0', '--data-dir', path.join(dir, 'load')]);
  const seeded = await fetch(`${rt.url}/seed`, { method: 'POST' });
  if (seeded.status !== 201) throw new Error(`seed failed: ${seeded.status} ${await seeded.text()}`);
  const check = (await (await fetch(`${rt.url}/items/42`)).json()) as { id?: number };
  if (check.id !== 42) throw new Error(`unexpected item: ${JSON.stringify(check)}`);

  async function load(pathName: string): Promise<AutocannonResult & { perCore: number }> {
    await autocannon({ url: `${rt.url}${pathName}`, connections: 50, duration: 1 });
    const cpu0 = await cpuMsOf(rt.child.pid);
    const r = await autocannon({ url: `${rt.url}${pathName}`, connections: 50, duration: MEASURE_S });
    const cpuS = ((await cpuMsOf(rt.child.pid)) - cpu0) / 1000;
    if (r.non2xx || r.errors || r.timeouts) throw new Error(`${pathName}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
    // Requests per CPU-second of the runtime process: what one dedicated core would serve.
    const perCore = r.requests.total / cpuS;
    console.log(`${pathName}: ${round(r.requests.average)} req/s, p99 ${r.latency.p99} ms; runtime used ${cpuS.toFixed(1)} CPU-s → ${round(perCore)} req per CPU-second`);
    return { ...r, perCore };
  }
  const json = await load('/hello?name=bench');
  const sqlite = await load('/items/42');
  await stop(rt);

  console.log(
    JSON.stringify({
      bench: 'runtime-throughput',
      pipelines: PIPELINES,
      start_ms: round(median(starts)),
      restart_ms: round(median(restarts)),
      first_start_ms: round(median(firstStarts)),
      start_cpu_ms: round(median(startCpu)),
      boot_ms: round(median(boot)),
      inprocess_start_ms: round(median(inproc)),
      json_rps: round(json.requests.average),
      sqlite_rps: round(sqlite.requests.average),
      json_rps_per_core: round(json.perCore),
      sqlite_rps_per_core: round(sqlite.perCore),
      loadavg_1m: Number(loadavg()[0].toFixed(2)),
      json_p99_ms: json.latency.p99,
      sqlite_p99_ms: sqlite.latency.p99,
      measure_s: MEASURE_S,
    }),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
