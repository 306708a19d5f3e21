/**
 * Webhook received → stored and answered. Starts Postgres (DATABASE_URL, or an embedded one in a temp dir), the
 * Fastify server with the GitHub App's route on loopback, and sends signed deliveries built from GitHub's example
 * payloads:
 *   0. warm-up: 300 deliveries, not measured;
 *   1. paced: RATE deliveries/s (default 500) for SECONDS (default 10); p50/p99 of received → 2xx;
 *   2. burst: BURST deliveries (default 5000, 10% of them redeliveries of an earlier id) from 32 connections;
 * then the delivery worker processes everything, and the bench checks none was lost and each id was stored once.
 * Usage: npm run bench -- webhook-ingest [RATE] [SECONDS] [BURST]
 * It also prints what one delivery costs whatever else the machine runs: the CPU the server (this process less the load
 * generator's thread) and the Postgres backends used during the paced phase, per delivery, and deliveries_per_cpu_s.
 * SYNCHRONOUS_COMMIT=off measures what acknowledging before the commit is on disk would buy (Wharf does not: a 202
 * means the delivery survives a crash of Postgres; see docs/github-app.md).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import path from 'node:path';
import { createStorePool, deliveries, migrate, sql, startEmbeddedPostgres } from '@wharf/store';
import { examplePayload, signedDelivery } from '@wharf/testkit';
import { buildServer, createGitHubApp } from '@wharf/webhook-app';
import pino from 'pino';
import { Registry } from 'prom-client';

const RATE = Number(process.argv[2] ?? 500);
const SECONDS = Number(process.argv[3] ?? 10);
const BURST = Number(process.argv[4] ?? 5000);
const SECRET = 'bench-secret';
const log = pino({ level: 'warn' });

interface ClientResult {
  ids: string[];
  /** CPU the load generator's thread used during the paced phase (ms). */
  pacedClientCpuMs: number;
  latencies: number[];
  perSecond: number;
  failures: number;
  redeliveries: number;
}

/** CPU time (user + system, ms, 10 ms ticks) from a /proc stat file; NaN where there is none (not Linux). */
function cpuMsOf(stat: string): number {
  try {
    const text = readFileSync(stat, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Tells the server thread that the paced phase starts or ends, and waits until it has read its CPU clocks. */
async function mark(name: 'start' | 'end'): Promise<number> {
  const cpu = cpuMsOf('/proc/thread-self/stat');
  const ack = new Promise((resolve) => parentPort?.once('message', resolve));
  parentPort?.postMessage({ mark: name });
  await ack;
  return cpu;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};

/** A request to send: built and signed before the clock starts, as GitHub signs on its side. */
interface Prepared {
  id: string;
  body: string;
  headers: Record<string, string>;
}

async function client(o: { endpoint: string; rate: number; seconds: number; burst: number }): Promise<ClientResult> {
  const endpoint = new URL(o.endpoint);
  // Real payloads of events the App stores but does not act on (star, watch, fork): ingest is what is measured.
  const templates = ['star', 'watch', 'fork'].map((e) => ({ event: e, payload: examplePayload(e) }));
  const prepare = (id: string, i: number): Prepared => {
    const tpl = templates[i % templates.length] as { event: string; payload: Record<string, unknown> };
    const d = signedDelivery(SECRET, tpl.event, { ...tpl.payload, installation: { id: 1000 + (i % 50) } }, id);
    return { id, body: d.body, headers: { ...d.headers, 'content-length': String(Buffer.byteLength(d.body)) } };
  };
  // node:http with keep-alive connections: the load generator shares the machine's cores with the server, so it
  // does as little as it can while the clock runs (fetch's streams cost the client more CPU than the server's own
  // work per delivery; signing ahead of time saves as much again).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const send = (d: Prepared): Promise<{ ms: number; status: number }> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const req = http.request(
        { host: endpoint.hostname, port: endpoint.port, path: endpoint.pathname, method: 'POST', headers: d.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0 }));
        },
      );
      req.on('error', reject);
      req.end(d.body);
    });

  const ids: string[] = [];
  // Warm-up (not measured): the JIT compiles the route, the pool opens its connections.
  const warm = Array.from({ length: 300 }, (_, i) => prepare(randomUUID(), i));
  for (let i = 0; i < warm.length; i += 10) await Promise.all(warm.slice(i, i + 10).map((d) => send(d)));
  ids.push(...warm.map((d) => d.id));
  const paced: Promise<{ ms: number; status: number }>[] = [];
  const total = o.rate * o.seconds;
  const pacedDeliveries = Array.from({ length: total }, (_, i) => prepare(randomUUID(), i));
  const clientCpu0 = await mark('start');
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const d = pacedDeliveries[i] as Prepared;
    ids.push(d.id);
    paced.push(send(d));
  }
  const pacedResults = await Promise.all(paced);
  const pacedClientCpuMs = (await mark('end')) - clientCpu0;
  let failures = pacedResults.filter((r) => r.status !== 202).length;
  const burstIds: string[] = [];
  let redeliveries = 0;
  for (let i = 0; i < o.burst; i++) {
    const again = i % 10 === 9 && burstIds.length > 0;
    const id = again ? (burstIds[Math.floor(Math.random() * burstIds.length)] as string) : randomUUID();
    if (again) redeliveries += 1;
    else ids.push(id);
    burstIds.push(id);
  }
  const burstDeliveries = burstIds.map((id, i) => prepare(id, i));
  let next = 0;
  const statuses: number[] = [];
  const b0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= burstDeliveries.length) return;
        statuses.push((await send(burstDeliveries[i] as Prepared)).status);
      }
    }),
  );
  const perSecond = o.burst / ((performance.now() - b0) / 1000);
  agent.destroy();
  failures += statuses.filter((s) => s !== 202 && s !== 200).length;
  return { ids, pacedClientCpuMs, latencies: pacedResults.map((r) => r.ms), perSecond, failures, redeliveries };
}

if (!isMainThread) {
  parentPort?.postMessage(await client(workerData));
} else {
let stopPg = async () => {};
let url = process.env.DATABASE_URL;
if (!url) {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-ingest-'));
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), ephemeral: true, log });
  url = pg.url;
  stopPg = async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
} else {
  // A database of its own on the given server.
  const u = new URL(url);
  const name = `wharf_bench_ingest_${Date.now()}`;
  const { default: pgmod } = await import('pg');
  const admin = new pgmod.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  u.pathname = `/${name}`;
  url = u.toString();
  const base = process.env.DATABASE_URL as string;
  stopPg = async () => {
    const a = new pgmod.Client({ connectionString: base });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await a.end();
  };
}
await migrate(url, log);
const synchronousCommit = process.env.SYNCHRONOUS_COMMIT === 'off' ? 'off' : 'on';
if (synchronousCommit === 'off') {
  const { default: pgmod } = await import('pg');
  const admin = new pgmod.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${JSON.stringify(new URL(url).pathname.slice(1))} SET synchronous_commit = off`);
  await admin.end();
}
const pool = await createStorePool(url, { maximumPoolSize: 20 });
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const registry = new Registry();
const app = createGitHubApp({
  pool,
  log,
  registry,
  credentials: { appId: 1, privateKey, webhookSecret: SECRET, apiUrl: 'http://127.0.0.1:9', webhookPath: '/api/github/webhooks', publicUrl: undefined },
  // Nothing in this bench reaches the source: the events are ones Wharf stores and ignores.
  source: {} as never,
  janitorCron: null,
});
const server = await buildServer({ log, pool, registry, version: 'bench', units: [{ name: 'github', plugin: app.plugin }] });
await server.listen({ host: '127.0.0.1', port: 0 });
const address = server.server.address();
const endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/github/webhooks`;

/**
 * CPU clocks read when the paced phase starts and ends: this process (server and load generator together) and each
 * Postgres backend of the bench's database (the commits, with their fsync, happen there).
 */
interface Clocks {
  processMs: number;
  backends: Map<number, number>;
}
const readClocks = async (): Promise<Clocks> => {
  const pids = (await pool.anyFirst(sql.unsafe`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)).map(Number);
  return { processMs: cpuMsOf('/proc/self/stat'), backends: new Map(pids.map((pid) => [pid, cpuMsOf(`/proc/${pid}/stat`)])) };
};
const marks: Partial<Record<'start' | 'end', Clocks>> = {};

const ids = new Set<string>();
let failures = 0;
try {
  // The load generator runs in a worker thread, so that it does not share the server's event loop.
  const result = await new Promise<ClientResult>((resolve, reject) => {
    const worker = new Worker(`import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(import.meta.url)}, ${JSON.stringify(import.meta.url)}))`, { eval: true, workerData: { endpoint, rate: RATE, seconds: SECONDS, burst: BURST } });
    worker.on('message', (message: ClientResult | { mark: 'start' | 'end' }) => {
      if (!('mark' in message)) return resolve(message);
      void readClocks().then((clocks) => {
        marks[message.mark] = clocks;
        worker.postMessage('ack');
      }, reject);
    });
    worker.once('error', reject);
  });
  for (const id of result.ids) ids.add(id);
  failures += result.failures;
  const latencies = result.latencies;
  const total = latencies.length;
  const perSecond = result.perSecond;
  console.log(`paced: ${total} deliveries at ${RATE}/s: p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms`);
  console.log(`burst: ${BURST} deliveries (${result.redeliveries} redeliveries): ${perSecond.toFixed(0)}/s`);
  // What one delivery costs the server, whatever else the machine runs: the process's CPU during the paced phase less
  // the load generator's, and the Postgres backends' CPU (a connection opened meanwhile counts from zero).
  const { start, end } = marks;
  const serverCpuMs = start && end ? end.processMs - start.processMs - result.pacedClientCpuMs : Number.NaN;
  let postgresCpuMs = Number.NaN;
  if (start && end) {
    postgresCpuMs = 0;
    for (const [pid, ms] of end.backends) postgresCpuMs += ms - (start.backends.get(pid) ?? 0);
  }
  const perDelivery = (ms: number) => Number((ms / total).toFixed(3));
  console.log(`paced phase CPU: server ${serverCpuMs} ms, Postgres backends ${postgresCpuMs} ms, load generator ${result.pacedClientCpuMs} ms for ${total} deliveries`);

  // 3. Process everything; every id stored exactly once, processed once.
  const p0 = performance.now();
  await app.settle();
  const counts = await deliveries.countDeliveries(pool);
  const stored = Object.values(counts).reduce((a, b) => a + b, 0);
  const lost = ids.size - stored;
  console.log((await registry.getSingleMetricAsString("wharf_github_webhook_store_seconds")).split("\n").filter((l) => /_sum|_count/.test(l)).join(" "));
  console.log(`processed: ${JSON.stringify(counts)} in ${((performance.now() - p0) / 1000).toFixed(2)} s; unique ids sent ${ids.size}`);
  console.log(
    JSON.stringify({
      bench: 'webhook-ingest',
      rate_per_s: RATE,
      synchronous_commit: synchronousCommit,
      paced_deliveries: total,
      p50_ms: Number(pct(latencies, 50).toFixed(2)),
      p99_ms: Number(pct(latencies, 99).toFixed(2)),
      server_cpu_ms_per_delivery: perDelivery(serverCpuMs),
      postgres_cpu_ms_per_delivery: perDelivery(postgresCpuMs),
      deliveries_per_cpu_s: Math.round((1000 * total) / (serverCpuMs + postgresCpuMs)),
      loadavg_1m: Number((loadavg()[0] ?? 0).toFixed(1)),
      deliveries_per_s: Math.round(perSecond),
      burst_deliveries: BURST,
      lost,
      stored_twice: Math.max(0, stored - ids.size),
      processed_once: counts.ignored === ids.size,
      non_2xx: failures,
    }),
  );
} finally {
  await app.stop();
  await server.close();
  await pool.end();
  await stopPg();
}
}
