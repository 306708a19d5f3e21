/**
 * agent-fanout: AGENTS simulated agents (lightweight long-poll clients in this process, registered through the agent
 * API) against one control-plane process (the server with the agent API), with the reconciler and its agent target in
 * a process of its own, as the two deployables run (bench/support/agent-control-plane.ts; `--one-process` runs both in
 * one, as `wharf up` does). Each agent is placed one environment; the agents report them healthy. Then:
 *   - idle: the control plane's queries per second (both processes) while every agent holds a long-poll and nothing
 *     changes;
 *   - fan-out: one transaction changes every environment (as a commit does); each agent's delivery latency is the time
 *     from the commit to the answer that carries its new document;
 *   - the peak RSS of the process the agents connect to (and of the reconciler's).
 * The simulated agents use node:http with keep-alive (so that the clients cost little beside the control plane on the
 * same machine) and report each document APPLY_MS (±50 %) after it arrives, as real agents report once applied.
 *   npm run bench -- agent-fanout [--agents 1000] [--idle-seconds 30] [--apply-ms 2000] [--one-process]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { type AgentDesiredResponse, type Condition } from '@wharf/contracts';
import { agents, desiredState, sql } from '@wharf/store';
import { seedEnvironments } from '@wharf/store/testing';
import { benchDatabase, percentile, REPO_ROOT, seedRepository, TSX_LOADER } from '@wharf/testkit';
import { argValue, benchSpec, sleep } from './support/replicas.js';

const AGENTS = argValue('agents', 1_000);
const IDLE_SECONDS = argValue('idle-seconds', 30);
const APPLY_MS = argValue('apply-ms', 2_000);
const db = await benchDatabase(process.env.DATABASE_URL);

interface Stats {
  queries: number;
  rssMb: number;
  maxRssMb: number;
}

const ONE_PROCESS = process.argv.includes('--one-process');

function startControlPlane(role: 'api' | 'reconciler' | 'both'): { child: ChildProcess; url: Promise<string>; stats(): Promise<Stats>; stop(): Promise<void> } {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, path.join(REPO_ROOT, 'bench/support/agent-control-plane.ts'), db.url, role], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`control plane (${role}) exited with ${code}`)));
  });
  const stats = () =>
    new Promise<Stats>((resolve) => {
      child.once('message', (m) => resolve(m as Stats));
      child.send({ cmd: 'stats' });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.send({ cmd: 'stop' });
      setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
    });
  return { child, url, stats, stop };
}

/** One HTTP request of a simulated agent: node:http on a shared keep-alive agent (far lighter than fetch per call). */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });
function call(base: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, signal: AbortSignal, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers, agent: keepAlive, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * One simulated agent: long-polls, records when each generation arrived, and reports each document healthy after a
 * simulated apply (APPLY_MS, spread ±50 %: a real agent reports once its guest answers, not the moment it hears).
 */
function simulatedAgent(base: string, credential: string, received: Map<number, number>, stop: AbortSignal) {
  const headers = { authorization: `Bearer ${credential}`, 'content-type': 'application/json' };
  const report = async (documents: AgentDesiredResponse['documents']) => {
    await sleep(APPLY_MS * (0.5 + Math.random()));
    const reports = documents.map((d) => ({ environmentId: d.environmentId, documentHash: d.hash, exists: true, healthy: true, digest: d.workflowApp?.spec.version.digest ?? null, url: 'http://10.0.0.1:8080/' }));
    for (let attempt = 0; attempt < 3 && !stop.aborted; attempt++) {
      const res = await call(base, 'POST', '/agent/v1/status', headers, stop, JSON.stringify({ reports })).catch((err: Error) => ({ status: 0, text: err.message }));
      if (res.status === 200) return;
      if (!stop.aborted) console.error(`agent: report answered ${res.status} ${res.text.slice(0, 200)}`);
      await sleep(500);
    }
  };
  return (async () => {
    let since = '';
    while (!stop.aborted) {
      try {
        const res = await call(base, 'GET', `/agent/v1/desired?since=${encodeURIComponent(since)}`, headers, stop);
        if (res.status !== 200) throw new Error(`desired: ${res.status}`);
        const body = JSON.parse(res.text) as AgentDesiredResponse;
        const at = performance.now();
        since = body.hash;
        if (!body.changed) continue;
        for (const d of body.documents) if (!received.has(d.generation)) received.set(d.generation, at);
        void report(body.documents);
      } catch (err) {
        if (stop.aborted) return;
        console.error(`agent: ${(err as Error).message}`);
        await sleep(1_000);
      }
    }
  })();
}

async function until(what: string, check: () => Promise<boolean>, seconds: number) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`${what}: not within ${seconds} s`);
}

const api = startControlPlane(ONE_PROCESS ? 'both' : 'api');
const rec = ONE_PROCESS ? null : startControlPlane('reconciler');
const processes = [api, ...(rec ? [rec] : [])];
const cp = {
  url: api.url,
  /** Queries of both processes; RSS of the one agents connect to. */
  async stats(): Promise<Stats & { reconcilerMaxRssMb: number | null }> {
    const [a, r] = await Promise.all([api.stats(), rec?.stats()]);
    return { queries: a.queries + (r?.queries ?? 0), rssMb: a.rssMb, maxRssMb: a.maxRssMb, reconcilerMaxRssMb: r?.maxRssMb ?? null };
  },
  stop: async () => void (await Promise.all(processes.map((p) => p.stop()))),
};
const abort = new AbortController();
// Every simulated agent's requests listen on this one signal.
setMaxListeners(0, abort.signal);
try {
  const base = await cp.url;
  if (rec) await rec.url;
  const { tenantId, repositoryId } = await seedRepository(db.pool, { tenant: 'bench' });
  const { token } = await agents.createRegistrationToken(db.pool, { tenantId }, { pool: 'lab', ttlMs: 3_600_000, createdBy: 'bench' });
  const credentials: string[] = [];
  for (let i = 0; i < AGENTS; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, AGENTS - i) }, (_, j) =>
        fetch(`${base}/agent/v1/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, name: `sim-${i + j}` }) }).then(
          async (r) => ((await r.json()) as { credential: string }).credential,
        ),
      ),
    );
    credentials.push(...batch);
  }
  const received = credentials.map(() => new Map<number, number>());
  const loops = credentials.map((c, i) => simulatedAgent(base, c, received[i]!, abort.signal));
  await seedEnvironments(
    db.pool,
    Array.from({ length: AGENTS }, (_, i) => ({ tenantId, repositoryId, app: 'bench', name: `env-${i}`, kind: 'production' as const, target: 'agent:lab', digest: 'sha256:v1', spec: benchSpec('bench', `env-${i}`, 'v1') })),
  );
  const converged = async () =>
    Number(await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM environments WHERE observed_generation = generation AND observed_digest = desired_digest`)) === AGENTS;
  await until('every environment placed, applied and reported', converged, 300);
  const perAgent = await db.pool.any(sql.unsafe`SELECT count(*) AS n FROM agent_documents GROUP BY agent_id`);
  const spread = perAgent.map((r) => Number(r.n));
  console.log(`converged: ${AGENTS} environments on ${spread.length} agents (at most ${Math.max(...spread)} each)`);

  // Idle: every agent holds a long-poll; nothing changes.
  await sleep(3_000);
  const q0 = await cp.stats();
  await sleep(IDLE_SECONDS * 1_000);
  const q1 = await cp.stats();
  const idleQps = (q1.queries - q0.queries) / IDLE_SECONDS;
  console.log(`idle: ${idleQps.toFixed(2)} queries/s with ${AGENTS} agents connected; control plane RSS ${Math.round(q1.rssMb)} MB (peak so far ${Math.round(q1.maxRssMb)} MB)`);

  // The commit: one transaction moves every environment to v2.
  const rows = await db.pool.any(sql.unsafe`SELECT name, conditions FROM environments ORDER BY id`);
  await db.pool.transaction(async (tx) => {
    for (const r of rows) {
      const name = String(r.name);
      await desiredState.writeDesired(tx, {
        tenantId,
        repositoryId,
        app: 'bench',
        name,
        kind: 'production',
        branch: 'main',
        prNumber: null,
        target: 'agent:lab',
        driftMode: 'correct',
        versionId: null,
        digest: 'sha256:v2',
        spec: benchSpec('bench', name, 'v2'),
        conditions: r.conditions as Condition[],
      });
    }
  });
  const committed = performance.now();
  const committedAt = String(await db.pool.oneFirst(sql.unsafe`SELECT clock_timestamp()::text`));
  await until('every agent has its new document', async () => received.every((m) => m.has(2)), 120);
  const latencies = received.map((m) => m.get(2)! - committed);
  const published = await db.pool.any(sql.unsafe`
    SELECT extract(epoch FROM (published_at - ${committedAt}::timestamptz)) * 1000 AS ms FROM agent_documents WHERE generation = 2`);
  const publishMs = published.map((r) => Number(r.ms));
  console.log(`published by the reconciler: p50 ${Math.round(percentile(publishMs, 50))} ms, p95 ${Math.round(percentile(publishMs, 95))} ms after the commit`);
  const stats = await cp.stats();
  await until('every environment converged at v2', converged, 120).catch((err: Error) => console.error(err.message));
  const result = {
    bench: 'agent-fanout',
    agents: AGENTS,
    delivery_p50_ms: Math.round(percentile(latencies, 50)),
    delivery_p95_ms: Math.round(percentile(latencies, 95)),
    delivery_max_ms: Math.round(Math.max(...latencies)),
    rss_mb: Math.round(stats.maxRssMb),
    reconciler_rss_mb: stats.reconcilerMaxRssMb === null ? null : Math.round(stats.reconcilerMaxRssMb),
    processes: ONE_PROCESS ? 'one' : 'api+reconciler',
    apply_ms: APPLY_MS,
    idle_queries_per_s: Number(idleQps.toFixed(2)),
  };
  abort.abort();
  await Promise.allSettled(loops);
  keepAlive.destroy();
  await cp.stop();
  await db.close();
  console.log(JSON.stringify(result));
} catch (err) {
  abort.abort();
  await cp.stop().catch(() => undefined);
  await db.close().catch(() => undefined);
  console.error(err);
  process.exit(1);
}
