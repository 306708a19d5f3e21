/**
 * k8s-scale: 1,000 environments on the kubernetes target (a reconciler with the kubernetes target in this process,
 * against the strict fake API server; the operator as its own process, as in a cluster). First all are created and
 * run; then one commit changes all of them at once, and the bench measures:
 * - applied_s: until every WorkflowApp holds the new digest (control plane → API server);
 * - reconciled_s: until the operator reports every one Ready at the new digest (children written, status back);
 * - writes_per_env: write requests (create, patch, update, delete) to the API server per environment for that rollout,
 *   by every client (control plane and operator), and writes_per_env_steady for a second rollout (when the ConfigMap of
 *   two versions back is pruned);
 * - operator_rss_mb: the operator process's resident memory at the end (peak sampled too);
 * - idle_requests_per_min: requests per minute once nothing changes (watches, the leader's Lease renewals).
 * The fake's Deployments become available as soon as they are written (no kubelet). Bounded: 240 s per phase, 60 s idle.
 * The fake API server shares this process with the control plane and the database clients: on a loaded machine it
 * can leave a request unanswered for longer than the operator's default 30 s Lease, and an operator that cannot renew
 * its Lease exits (as it should; the bench then stops). The bench gives the operator a 120 s Lease (--lease-s).
 * The operator runs as the chart runs it: its bundle with plain node (`--operator tsx`: its sources through tsx).
 *   npm run bench -- k8s-scale [--apps 1000] [--idle-s 60] [--lease-s 120] [--operator bundle|tsx] [--operator-node-args "…"]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSettings } from '@wharf/contracts';
import { buildOperatorBundle, createReconciler, createTargetRegistry, localTargetSettings, targetsFromSettings } from '@wharf/reconciler';
import { tenantPlans } from '@wharf/store';
import { countUnconverged, seedEnvironments, setDesiredForTest } from '@wharf/store/testing';
import { benchDatabase, REPO_ROOT, seedRepository, startFakeKubernetes } from '@wharf/testkit';
import pino from 'pino';
import { argValue, sleep, waitUntil } from './support/replicas.js';

const APPS = argValue('apps', 1_000);
const IDLE_S = argValue('idle-s', 60);
const LEASE_S = argValue('lease-s', 120);
const PHASE_MS = 240_000;
const log = pino({ level: 'warn' });

const spec = (env: string, version: number) => ({
  app: 'shop',
  environment: env,
  version: { sha: createHash('sha1').update(`v${version}`).digest('hex'), digest: `sha256:${createHash('sha256').update(`v${version}`).digest('hex')}` },
  files: [{ path: 'app.yaml', content: `# v${version}\nmodules:\n  - name: server\n    type: http.server\n    config:\n      address: ":8080"\n` }],
  runtime: {},
  replicas: 1,
  env: [],
});

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const work = await mkdtemp(path.join(tmpdir(), 'wharf-bench-k8s-'));
const fake = await startFakeKubernetes({
  crdFiles: [path.join(REPO_ROOT, 'crds/workflowapps.wharf.dev.yaml')],
  namespaces: ['default', 'wharf-system'],
  deploymentsBecomeAvailable: true,
  watchHistory: 200_000,
});
const kubeconfig = await fake.writeKubeconfig(path.join(work, 'kubeconfig'));
const db = await benchDatabase(process.env.DATABASE_URL, { poolSize: 10 });
/** As the chart runs it (a bundle, plain node), or `--operator tsx` to run its sources through the TypeScript loader. */
const operatorFlag = process.argv.indexOf('--operator');
const OPERATOR_MODE = operatorFlag >= 0 && process.argv[operatorFlag + 1] === 'tsx' ? 'tsx' : 'bundle';
const operatorArgs = OPERATOR_MODE === 'tsx' ? ['--import', 'tsx', path.join(REPO_ROOT, 'reconciler/src/operator/main.ts')] : [await buildOperatorBundle(path.join(work, 'wharf-operator.mjs'))];
/** Node flags for the operator process (`--operator-node-args "--max-semi-space-size=2"`), as a chart's command could set. */
const nodeArgsFlag = process.argv.indexOf('--operator-node-args');
const OPERATOR_NODE_ARGS = nodeArgsFlag >= 0 ? (process.argv[nodeArgsFlag + 1] ?? '').split(/\s+/).filter(Boolean) : [];
const operator = spawn(process.execPath, [...OPERATOR_NODE_ARGS, ...operatorArgs], {
  cwd: REPO_ROOT,
  env: { ...process.env, WHARF_KUBECONFIG: kubeconfig, WHARF_OPERATOR_HOST: '127.0.0.1', WHARF_OPERATOR_PORT: '0', WHARF_OPERATOR_LEASE_NAMESPACE: 'wharf-system', WHARF_LOG_LEVEL: 'warn', WHARF_OPERATOR_CONCURRENCY: '16', WHARF_OPERATOR_LEASE_SECONDS: String(LEASE_S) },
  stdio: ['ignore', 'inherit', 'inherit'],
});
/** The operator exits when it loses its Lease (as a pod would, to be restarted): the bench then stops with that. */
const operatorGone = new Promise<never>((_, reject) => operator.once('exit', (code, signal) => reject(new Error(`the operator exited (${signal ?? code}) during the bench`))));
operatorGone.catch(() => undefined);
const whileOperatorRuns = <T>(p: Promise<T>) => Promise.race([p, operatorGone]);
let peakRss = 0;
const sampler = setInterval(() => void rssMb(operator.pid!).then((mb) => (peakRss = Math.max(peakRss, mb))), 500);

const { tenantId, repositoryId } = await seedRepository(db.pool, { tenant: 'bench' });
const names = Array.from({ length: APPS }, (_, i) => `env-${i}`);
const ids = await seedEnvironments(
  db.pool,
  names.map((name) => ({ tenantId, repositoryId, app: 'shop', name, kind: 'production' as const, target: 'kubernetes', digest: spec(name, 1).version.digest, spec: spec(name, 1) })),
);
const targets = await createTargetRegistry(
  targetsFromSettings({ ...loadSettings(localTargetSettings, {}), WHARF_LOCAL_TARGET: false, WHARF_KUBECONFIG: kubeconfig, WHARF_KUBERNETES_NAMESPACE_PREFIX: 'wharf-' }, work, { tenantPlan: (id) => tenantPlans.planOfTenant(db.pool, id) }),
  { log },
);
const reconciler = createReconciler({ pool: db.pool, databaseUrl: db.url, targets, log, resyncMs: 3_600_000 });

/** WorkflowApps whose spec holds `digest`, and those the operator reports Ready at it. */
const progress = (digest: string) => {
  let applied = 0;
  let ready = 0;
  for (const wa of fake.list('wharf.dev/v1alpha1', 'WorkflowApp')) {
    if ((wa.spec as { version: { digest: string } }).version.digest !== digest) continue;
    applied++;
    const st = wa.status as { observedDigest?: string; observedGeneration?: number; conditions?: { type: string; status: string }[] } | undefined;
    if (st?.observedDigest === digest && st.observedGeneration === wa.metadata.generation && st.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ready++;
  }
  return { applied, ready };
};

/** Writes by verb, resource, subresource and field manager (who wrote) since `since`. */
function writesSince(since: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of fake.requests) {
    if (r.at < since || !['create', 'update', 'patch', 'delete'].includes(r.verb)) continue;
    const key = `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''} by ${r.fieldManager ?? '-'}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

async function rollout(version: number): Promise<{ applied_s: number; reconciled_s: number; converged_s: number; writes: number }> {
  const digest = spec('x', version).version.digest;
  const since = Date.now();
  const t0 = performance.now();
  if (version > 1) await setDesiredForTest(db.pool, { ids: null, digest, spec: spec('any', version) });
  let applied_s = 0;
  await whileOperatorRuns(waitUntil('applied', async () => {
    const p = progress(digest);
    if (p.applied === APPS && !applied_s) applied_s = (performance.now() - t0) / 1000;
    return p.applied === APPS;
  }, PHASE_MS, 100));
  await whileOperatorRuns(waitUntil('reconciled', async () => progress(digest).ready === APPS, PHASE_MS, 100));
  const reconciled_s = (performance.now() - t0) / 1000;
  await waitUntil('the control plane saw them all', async () => (await countUnconverged(db.pool, ids)) === 0, PHASE_MS, 200);
  const converged_s = (performance.now() - t0) / 1000;
  await sleep(3_000); // Late writes of this rollout (ConfigMap pruning, last status) belong to it.
  const counts = fake.counts(since);
  const writes = Object.entries(writesSince(since)).map(([what, n]) => `${what}: ${(n / APPS).toFixed(2)}`);
  console.log(`  writes per environment: ${writes.join(', ')}`);
  return { applied_s, reconciled_s, converged_s, writes: counts.writes };
}

/** The figures, printed after everything has stopped, so that they are the last line (the operator logs its stop). */
let result: Record<string, unknown> | undefined;
try {
  await reconciler.start();
  const create = await rollout(1);
  console.log(`created ${APPS}: applied ${create.applied_s.toFixed(1)} s, reconciled ${create.reconciled_s.toFixed(1)} s, converged ${create.converged_s.toFixed(1)} s, ${(create.writes / APPS).toFixed(2)} writes/env`);
  const change = await rollout(2);
  console.log(`changed ${APPS}: applied ${change.applied_s.toFixed(1)} s, reconciled ${change.reconciled_s.toFixed(1)} s, converged ${change.converged_s.toFixed(1)} s, ${(change.writes / APPS).toFixed(2)} writes/env`);
  const steady = await rollout(3);
  console.log(`changed again: ${(steady.writes / APPS).toFixed(2)} writes/env (the ConfigMap of two versions back is pruned)`);
  const rss = await rssMb(operator.pid!);
  const idleSince = Date.now();
  await sleep(IDLE_S * 1000);
  const idle = fake.counts(idleSince);
  const perMin = (n: number) => Number(((n * 60) / IDLE_S).toFixed(1));
  const byVerb = Object.fromEntries(Object.entries(idle.byVerb).filter(([, n]) => n > 0).map(([v, n]) => [v, perMin(n)]));
  console.log(`idle writes: ${JSON.stringify(writesSince(idleSince))}`);
  console.log(`idle ${IDLE_S} s: ${idle.total} requests (${JSON.stringify(byVerb)} per min), open watches ${fake.openWatches()}, problems ${fake.problems.length}`);
  result = {
    bench: 'k8s-scale',
    apps: APPS,
    lease_s: LEASE_S,
    operator: OPERATOR_MODE,
    ...(OPERATOR_NODE_ARGS.length ? { operator_node_args: OPERATOR_NODE_ARGS.join(' ') } : {}),
    applied_s: Number(change.applied_s.toFixed(2)),
    reconciled_s: Number(change.reconciled_s.toFixed(2)),
    converged_s: Number(change.converged_s.toFixed(2)),
    writes_per_env: Number((change.writes / APPS).toFixed(2)),
    writes_per_env_steady: Number((steady.writes / APPS).toFixed(2)),
    created_s: Number(create.reconciled_s.toFixed(2)),
    operator_rss_mb: rss,
    operator_peak_rss_mb: peakRss,
    idle_requests_per_min: perMin(idle.total),
    idle_by_verb_per_min: byVerb,
  };
} finally {
  clearInterval(sampler);
  if (operator.exitCode === null && operator.signalCode === null) {
    const exited = new Promise((r) => operator.once('exit', r));
    operator.kill('SIGTERM');
    await exited;
  }
  await reconciler.stop();
  await targets.close();
  await fake.close();
  await db.close();
  await rm(work, { recursive: true, force: true });
}
if (result) console.log(JSON.stringify(result));
