/**
 * Shared by the reconciler benchmarks (bench/*.ts): seeding converged environments, and reconciler replicas as child
 * processes (replica.ts) on the memory target. Their database comes from testkit's benchDatabase.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DatabasePool } from '@wharf/store';
import { seedRepository } from '@wharf/testkit';
import pino from 'pino';

export const log = pino({ level: 'warn' });
import { sleep } from '@wharf/testkit';
import { seedEnvironments } from '@wharf/store/testing';

export { benchDatabase, median, sleep } from '@wharf/testkit';

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
  const { tenantId, repositoryId } = await seedRepository(pool, { tenant: 'bench' });
  const ids: number[] = [];
  for (let start = 0; start < count; start += 2_000) {
    const rows = Array.from({ length: Math.min(2_000, count - start) }, (_, i) => {
      const name = `env-${start + i}`;
      return {
        tenantId,
        repositoryId,
        app: 'bench',
        name,
        target,
        digest: 'sha256:v1',
        spec: benchSpec('bench', name, 'v1'),
        converged: { dueInMs: dueSpreadMs === undefined ? 3_600_000 : Math.random() * dueSpreadMs },
      };
    });
    ids.push(...(await seedEnvironments(pool, rows)));
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

export async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : fallback;
}
