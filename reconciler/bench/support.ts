/**
 * Shared by the reconciler benchmarks (bench/*.ts): a database of their own (embedded Postgres in a temp dir when
 * DATABASE_URL is unset, else a fresh database on that server), seeding, and replica child processes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStorePool, type DatabasePool, environments, migrate, repositories, startEmbeddedPostgres, tenants } from '@wharf/store';
import pg from 'pg';
import pino from 'pino';

export const log = pino({ level: 'warn' });

export interface BenchDatabase {
  url: string;
  pool: DatabasePool;
  close(): Promise<void>;
}

export async function benchDatabase(databaseUrl: string | undefined): Promise<BenchDatabase> {
  const cleanups: (() => Promise<void>)[] = [];
  let server = databaseUrl;
  if (!server) {
    const dir = await mkdtemp(path.join(tmpdir(), 'wharf-bench-pg-'));
    const pgServer = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), ephemeral: true, log });
    server = pgServer.url;
    cleanups.push(async () => {
      await pgServer.stop();
      await rm(dir, { recursive: true, force: true });
    });
  }
  const name = `wharf_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(server);
  u.pathname = `/${name}`;
  const url = u.toString();
  await migrate(url, log);
  const pool = await createStorePool(url, { maximumPoolSize: 4 });
  cleanups.unshift(async () => {
    await pool.end();
    const a = new pg.Client({ connectionString: server });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await a.end();
  });
  return {
    url,
    pool,
    close: async () => {
      for (const c of cleanups) await c();
    },
  };
}

export function benchSpec(app: string, env: string, version: string) {
  return {
    app,
    environment: env,
    version: { sha: version.padEnd(40, '0').slice(0, 40), digest: `sha256:${version}` },
    files: [{ path: 'app.yaml', content: `# echo: ${app} ${env} ${version}\nmodules:\n  - name: server\n    type: http.server\n` }],
    runtime: {},
    replicas: 1,
    env: [],
  };
}

/** `count` environments on the memory target, converged at v1, next due spread over `dueSpreadMs` (or after 1 h). */
export async function seedConverged(pool: DatabasePool, count: number, dueSpreadMs?: number, target = 'memory'): Promise<number[]> {
  const tenant = await tenants.upsertTenant(pool, { kind: 'local', externalId: 'bench', name: 'bench' });
  const repo = await repositories.upsertRepository(pool, { tenantId: tenant.id, provider: 'local', fullName: 'bench/repo', url: 'file:///bench', defaultBranch: 'main' });
  const ids: number[] = [];
  for (let start = 0; start < count; start += 2_000) {
    const rows = Array.from({ length: Math.min(2_000, count - start) }, (_, i) => {
      const name = `env-${start + i}`;
      return {
        tenantId: tenant.id,
        repositoryId: repo.id,
        app: 'bench',
        name,
        target,
        digest: 'sha256:v1',
        spec: benchSpec('bench', name, 'v1'),
        converged: { dueInMs: dueSpreadMs === undefined ? 3_600_000 : Math.random() * dueSpreadMs },
      };
    });
    ids.push(...(await environments.seedEnvironments(pool, rows)));
  }
  return ids;
}

export interface ReplicaOptions {
  databaseUrl: string;
  replicaId: string;
  applyMs: number;
  leaseTtlMs?: number;
  resyncMs?: number;
  concurrency?: number;
  batchSize?: number;
  presumeRunning?: string;
  /** Where the replica writes its report on SIGTERM. */
  reportFile: string;
}

export interface ReplicaReport {
  replicaId: string;
  applies: Record<string, number>;
  queries: number;
  seconds: number;
  rssMb: number;
  maxRssMb: number;
}

export interface Replica {
  child: ChildProcess;
  ready: Promise<void>;
  /** SIGTERM, wait, read the report. */
  stop(): Promise<ReplicaReport>;
}

const REPLICA_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'replica.ts');

export function startReplica(options: ReplicaOptions): Replica {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), REPLICA_SCRIPT, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`replica ${options.replicaId} exited with ${code} before it was ready`)));
  });
  ready.catch(() => undefined);
  return {
    child,
    ready,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(await readFile(options.reportFile, 'utf8')) as ReplicaReport;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

export function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : fallback;
}
