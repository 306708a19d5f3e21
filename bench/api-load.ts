/**
 * api-load: one control-plane process (the REST API unit) with 10,000 environments in 100 organizations.
 *   - list_p99_ms: GET /api/v1/environments (a page of 100) at 200 requests/s for `--seconds` (default 10), each
 *     request with the API key of the next organization (an open-loop generator in this process).
 *   - auth_overhead_p99_ms: what authentication cost those requests (key → organization → permission), from the
 *     API's own Server-Timing header, over the same requests. Before the measured second, `--warmup` seconds (default
 *     2) of the same load, unmeasured: every key's first use reads it from Postgres (then it is cached), and the
 *     JIT warms up, as in a control plane that has been serving for a while.
 *   - sse_p95_ms: 1,000 open /api/v1/events streams of one organization; an environment's status changes (written
 *     the way the reconciler writes it) and each stream's time to receive it is measured; 5 changes.
 *   - rss_mb: this process's resident memory at the end (server and load generator together).
 *   - served_per_s and cpu_ms_per_request: requests answered per second of the measured phase, and this process's CPU
 *     (server and load generator) per request: what the list costs, less sensitive than latency to a busy machine.
 *   npm run bench -- api-load [--seconds 10] [--rate 200] [--warmup 2] [--streams 1000]
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatToken, loadSettings } from '@wharf/contracts';
import { apiKeys, repositories, sql, tenants } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { benchDatabase, percentile } from '@wharf/testkit';
import { apiUnit, buildServer, controlPlaneSettings } from '@wharf/webhook-app';
import pino from 'pino';
import { Registry } from 'prom-client';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const SECONDS = arg('seconds', 10);
const RATE = arg('rate', 200);
const WARMUP = arg('warmup', 2);
const STREAMS = arg('streams', 1000);
const ORGS = 100;
const PER_ORG = 100;
const PEPPER = randomBytes(32).toString('base64url');

const db = await benchDatabase(process.env.DATABASE_URL, { poolSize: 10 });
const work = await mkdtemp(path.join(tmpdir(), 'wharf-bench-api-'));
const log = pino({ level: 'warn' });
try {
  const keys: string[] = [];
  const firstEnv: number[] = [];
  for (let o = 0; o < ORGS; o++) {
    const tenant = await tenants.upsertTenant(db.pool, { kind: 'github', externalId: String(1000 + o), name: `org-${o}` });
    await db.pool.query(sql.unsafe`UPDATE tenants SET plan = ${o === 0 ? 'enterprise' : 'pro'} WHERE id = ${tenant.id}`);
    const repo = await repositories.upsertRepository(db.pool, { tenantId: tenant.id, provider: 'github', fullName: `org-${o}/shop`, url: 'x', defaultBranch: 'main' });
    const ids = await seedEnvironments(
      db.pool,
      Array.from({ length: PER_ORG }, (_, i) => ({
        tenantId: tenant.id,
        repositoryId: repo.id,
        app: `app-${i % 10}`,
        name: `env-${i}`,
        digest: `sha256:${o}-${i}`,
        spec: null,
        converged: { dueInMs: 3_600_000 },
      })),
    );
    firstEnv.push(ids[0] ?? 0);
    const key = formatToken('apiKey', randomBytes(30));
    await apiKeys.createApiKey(db.pool, { tenantId: tenant.id }, {
      name: 'bench',
      prefix: key.slice(0, 10),
      secretHash: createHmac('sha256', Buffer.from(PEPPER)).update(key).digest(),
      scopes: ['read'],
      permissions: ['organization:read', 'environments:read', 'repositories:read'],
      repositoryIds: null,
      createdBy: 'bench',
      expiresInDays: null,
    });
    keys.push(key);
  }
  const settings = loadSettings(controlPlaneSettings, { DATABASE_URL: db.url, WHARF_DATA_DIR: work, WHARF_API_PEPPER: PEPPER, WHARF_DB_POOL_SIZE: '10' });
  const unit = await apiUnit({ pool: db.pool, log, registry: new Registry(), settings, dataDir: work, databaseUrl: db.url });
  const server = await buildServer({ log, pool: db.pool, registry: new Registry(), version: 'bench', units: unit ? [unit] : [] });
  await server.listen({ host: '127.0.0.1', port: 0 });
  unit?.start?.();
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  // 1. Listing at 200 requests per second (an open loop: requests start on schedule, whatever the answers do), keys
  // of every organization in turn.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const latencies: number[] = [];
  const authMs: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const get = (key: string) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/environments?limit=100', agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - started);
          if (res.statusCode !== 200) non2xx += 1;
          const timing = /auth;dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''));
          if (timing && res.statusCode === 200) authMs.push(Number(timing[1]));
          resolve();
        });
      });
      req.on('error', () => {
        errors += 1;
        resolve();
      });
    });
  const load = async (seconds: number) => {
    const total = Math.round(RATE * seconds);
    const inflight: Promise<void>[] = [];
    const began = performance.now();
    for (let i = 0; i < total; i++) {
      const due = began + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      inflight.push(get(keys[i % keys.length] ?? ''));
    }
    await Promise.all(inflight);
  };
  if (WARMUP > 0) {
    await load(WARMUP);
    latencies.length = 0;
    authMs.length = 0;
    non2xx = 0;
    errors = 0;
  }
  const total = Math.round(RATE * SECONDS);
  const cpuBefore = process.cpuUsage();
  const measuredFrom = performance.now();
  await load(SECONDS);
  const cpu = process.cpuUsage(cpuBefore);
  const measuredMs = performance.now() - measuredFrom;
  agent.destroy();
  const result = { latency: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) }, requests: { total }, non2xx, errors };

  // 2. 1,000 event streams of one organization; a status change reaches them.
  const received: number[][] = [];
  const sockets: http.ClientRequest[] = [];
  let changeAt = 0;
  let opened = 0;
  await new Promise<void>((resolve, reject) => {
    for (let i = 0; i < STREAMS; i++) {
      const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers: { authorization: `Bearer ${keys[0]}` }, agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`stream ${i}: HTTP ${res.statusCode}`));
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          buf += chunk;
          let at: number;
          while ((at = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, at);
            buf = buf.slice(at + 2);
            if (frame.includes('event: ready')) {
              opened += 1;
              if (opened === STREAMS) resolve();
            } else if (frame.includes('event: environment')) (received[received.length - 1] ??= []).push(performance.now() - changeAt);
          }
        });
      });
      req.on('error', reject);
      sockets.push(req);
    }
  });
  const sseMs: number[] = [];
  for (let change = 0; change < 5; change++) {
    received.push([]);
    changeAt = performance.now();
    await db.pool.query(sql.unsafe`
      UPDATE environments SET conditions = jsonb_build_array(jsonb_build_object('type', 'Ready', 'status', ${change % 2 === 0 ? 'False' : 'True'}::text,
        'reason', 'RolloutSucceeded', 'message', ${`change ${change}`}::text, 'lastTransitionTime', now())) WHERE id = ${firstEnv[0] ?? 0}`);
    const deadline = Date.now() + 10_000;
    while ((received.at(-1)?.length ?? 0) < STREAMS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const got = received.at(-1) ?? [];
    sseMs.push(...got, ...Array.from({ length: STREAMS - got.length }, () => 10_000));
  }
  const rss = process.memoryUsage().rss / 1024 / 1024;
  for (const s of sockets) s.destroy();
  await server.close();
  await unit?.stop?.();
  const figures = {
    bench: 'api-load',
    organizations: ORGS,
    environments: ORGS * PER_ORG,
    rate: RATE,
    seconds: SECONDS,
    warmup_seconds: WARMUP,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    list_p50_ms: Number(result.latency.p50.toFixed(1)),
    list_p99_ms: Number(result.latency.p99.toFixed(1)),
    auth_overhead_p50_ms: Number(percentile(authMs, 50).toFixed(3)),
    auth_overhead_p99_ms: Number(percentile(authMs, 99).toFixed(3)),
    served_per_s: Math.round((total * 1000) / measuredMs),
    cpu_ms_per_request: Number(((cpu.user + cpu.system) / 1000 / total).toFixed(2)),
    streams: STREAMS,
    sse_p50_ms: Math.round(percentile(sseMs, 50)),
    sse_p95_ms: Math.round(percentile(sseMs, 95)),
    rss_mb: Math.round(rss),
  };
  console.log(JSON.stringify(figures));
} finally {
  await db.close();
  await rm(work, { recursive: true, force: true });
}
