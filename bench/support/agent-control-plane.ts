/**
 * The control plane of the agent benchmarks, as its deployables run it: `api` is the control-plane server with the
 * agent API (what agents connect to), `reconciler` the reconciler with the agent target; `both` runs the two in one
 * process (as `wharf up` does). Each counts its queries and samples its RSS; prints `ready <url>` and answers
 * `stats` over IPC.
 *   node bench/support/agent-control-plane.ts DATABASE_URL [api|reconciler|both]
 */
import { readFileSync } from 'node:fs';
import { loadSettings } from '@wharf/contracts';
import { createStorePool } from '@wharf/store';
import pino from 'pino';
import { Registry } from 'prom-client';

const databaseUrl = process.argv[2]!;
const role = (process.argv[3] ?? 'both') as 'api' | 'reconciler' | 'both';
let queries = 0;
let maxRss = 0;
const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMb())), 500);
const pool = await createStorePool(databaseUrl, { maximumPoolSize: 10, onQuery: () => queries++ });
const log = pino({ level: 'warn' });
const stops: (() => Promise<void>)[] = [];
let url = '';

// Each role loads only its own deployable's modules, as webhook-app/src/main.ts and reconciler/src/main.ts do (the
// reconciler's Kubernetes client alone is ~85 MB of resident memory the server never loads).
if (role !== 'reconciler') {
  const { buildServer, buildUnits, controlPlaneSettings, createAgentApiUnit } = await import('@wharf/webhook-app');
  const settings = loadSettings(controlPlaneSettings, { WHARF_PORT: '0' });
  const registry = new Registry();
  const units = await buildUnits({ pool, log, registry, settings, dataDir: '/nonexistent', databaseUrl }, { agentApi: createAgentApiUnit() });
  const server = await buildServer({ log, pool, registry, version: 'bench', units });
  await server.listen({ host: '127.0.0.1', port: 0 });
  for (const u of units) u.start?.();
  const address = server.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  stops.push(async () => {
    await server.close();
    for (const u of units) await u.stop?.();
  });
}
if (role !== 'api') {
  const { createReconciler, createTargetRegistry, localTargetSettings, targetsFromSettings } = await import('@wharf/reconciler');
  const targets = await createTargetRegistry(
    { agent: targetsFromSettings({ ...loadSettings(localTargetSettings, { WHARF_ROUTER_PORT: '0' }), WHARF_AGENT_STALE_AFTER: 120, WHARF_AGENT_OFFLINE_AFTER: 600, WHARF_AGENT_REASSIGN_AFTER: 0 }, '/nonexistent', { pool }).agent },
    { log },
  );
  const reconciler = createReconciler({ pool, databaseUrl, targets, log });
  await reconciler.start();
  stops.unshift(() => reconciler.stop());
}
console.log(`ready ${url || 'reconciler'}`);

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'stats') process.send?.({ queries, rssMb: rssMb(), maxRssMb: Math.max(maxRss, rssMb()) });
  if (m.cmd === 'stop') {
    void (async () => {
      clearInterval(sampler);
      for (const stop of stops) await stop();
      await pool.end();
      process.exit(0);
    })();
  }
});
