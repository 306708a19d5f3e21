/** One reconciler replica process for the benchmarks: memory target, counts queries and applies, reports on SIGTERM. */
import { readFileSync, writeFileSync } from 'node:fs';
import { createReconciler, createTargetRegistry, existingTarget } from '@wharf/reconciler';
import { createStorePool } from '@wharf/store';
import { createMemoryTarget } from '@wharf/testkit';
import pino from 'pino';
import type { ReplicaOptions, ReplicaReport } from './replicas.js';

const o = JSON.parse(process.argv[2] ?? '{}') as ReplicaOptions;
const started = performance.now();
let queries = 0;
let maxRss = 0;
const rssMb = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
};
const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMb())), 1_000);
const pool = await createStorePool(o.databaseUrl, { maximumPoolSize: 10, onQuery: () => queries++ });
const target = createMemoryTarget({ applyMs: o.applyMs, presumeRunning: o.presumeRunning });
const log = pino({ level: 'warn' });
const targets = await createTargetRegistry({ memory: {} }, { log }, { memory: existingTarget(target) });
const rec = createReconciler({
  pool,
  databaseUrl: o.databaseUrl,
  targets,
  log,
  replicaId: o.replicaId,
  leaseTtlMs: o.leaseTtlMs,
  resyncMs: o.resyncMs,
  concurrency: o.concurrency,
  batchSize: o.batchSize,
});
await rec.start();
console.log('ready');
process.once('SIGTERM', async () => {
  const seconds = (performance.now() - started) / 1000;
  const q = queries;
  const rss = rssMb();
  await rec.stop();
  clearInterval(sampler);
  await pool.end();
  const report: ReplicaReport = {
    replicaId: o.replicaId,
    applies: Object.fromEntries(target.applies),
    queries: q,
    seconds,
    rssMb: rss,
    maxRssMb: Math.max(maxRss, rss),
  };
  writeFileSync(o.reportFile, JSON.stringify(report));
  process.exit(0);
});
