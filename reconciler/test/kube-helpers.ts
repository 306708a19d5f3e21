/** Shared set-up of the kubernetes target and operator tests: the strict fake API server, a kubeconfig, the target, the operator. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type EnvironmentSnapshot, type TargetLog, type WorkflowAppSpec } from '@wharf/contracts';
import { type FakeKubernetes, type FakeKubernetesOptions, REPO_ROOT, silentLog, startFakeKubernetes } from '@wharf/testkit';
import {
  applyStatusUpdate,
  type ChildrenConfig,
  connectCluster,
  createKubernetesTarget,
  createOperator,
  type KubernetesTarget,
  type KubernetesTargetSettings,
  type Operator,
  type OperatorOptions,
  reconcileEnvironment,
  summarizeOutcome,
} from '../src/index.js';

export const CRD_FILE = path.join(REPO_ROOT, 'crds/workflowapps.wharf.dev.yaml');
export const HTTPROUTE_CRD_FILE = path.join(import.meta.dirname, 'fixtures/httproutes.gateway.networking.k8s.io.yaml');

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export const CHILDREN_CONFIG: ChildrenConfig = {
  runtimeImage: 'ghcr.io/wharf-dev/wharf-runtime:0.1.0',
  allowedImages: [],
  allowCommand: false,
  route: 'ingress',
  storageSize: '1Gi',
};

/** Clients of a test's fake, stopped (last first) before the fake closes. */
const clients = new WeakMap<Teardown, (() => Promise<unknown> | unknown)[]>();
const onTeardown = (t: Teardown, fn: () => Promise<unknown> | unknown) => {
  const stack = clients.get(t);
  if (stack) stack.push(fn);
  else t.teardown(fn);
};

export async function startKube(t: Teardown, options: FakeKubernetesOptions = {}) {
  const fake = await startFakeKubernetes({ crdFiles: [CRD_FILE, HTTPROUTE_CRD_FILE], ...options });
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-kube-'));
  const stack: (() => Promise<unknown> | unknown)[] = [];
  clients.set(t, stack);
  t.teardown(async () => {
    for (const fn of stack.reverse()) await fn();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });
  const kubeconfig = await fake.writeKubeconfig(path.join(dir, 'kubeconfig'));
  const tokenKubeconfig = (name: string, token: string) => fake.writeKubeconfig(path.join(dir, `${name}.kubeconfig`), { token });
  return { fake, dir, kubeconfig, tokenKubeconfig };
}

export function target(t: Teardown, kubeconfig: string, over: Partial<KubernetesTargetSettings> = {}): KubernetesTarget {
  const k = createKubernetesTarget({ kubeconfig, namespacePrefix: 'wharf-', baseDomain: 'apps.example.test', log: silentLog, ...over });
  onTeardown(t, () => k.close());
  return k;
}

export async function operator(t: Teardown, kubeconfig: string, over: Partial<OperatorOptions> = {}, log: TargetLog = silentLog): Promise<Operator> {
  const conn = await connectCluster(kubeconfig, null, log);
  const op = createOperator({ api: conn.api, config: CHILDREN_CONFIG, log, leaderElection: null, resyncMs: 60_000, ...over });
  onTeardown(t, async () => {
    await op.stop();
    conn.close();
  });
  await op.start();
  return op;
}

export function specFor(app: string, env: string, version: string, extra: Partial<WorkflowAppSpec> = {}): WorkflowAppSpec {
  return {
    app,
    environment: env,
    version: { sha: version.padEnd(40, 'a').replace(/[^0-9a-f]/g, 'a').slice(0, 40), digest: `sha256:${version.padEnd(64, '0')}` },
    files: [{ path: 'app.yaml', content: `# ${app} ${version}\nmodules:\n  - name: server\n    type: http.server\n    config:\n      address: ":8080"\n` }],
    runtime: {},
    replicas: 1,
    env: [],
    ...extra,
  };
}

export function snapshotFor(spec: WorkflowAppSpec, over: Partial<EnvironmentSnapshot> = {}, target = 'kubernetes'): EnvironmentSnapshot {
  return {
    identity: { id: 7, tenantId: 3, repositoryId: 1, app: spec.app, name: spec.environment, kind: 'production', branch: 'main', prNumber: null, target },
    generation: 1,
    desired: { versionId: 1, digest: spec.version.digest, spec, rollbackOfVersionId: null },
    observed: { generation: 0, digest: null, versionId: null, url: null },
    conditions: [],
    driftMode: 'correct',
    deletionRequested: false,
    failureCount: 0,
    ...over,
  };
}

/** One pass of the control plane's steps on a snapshot, through a kubernetes target (no database). */
export async function controlPlanePass(env: EnvironmentSnapshot, k: KubernetesTarget, log: TargetLog = silentLog) {
  const result = await reconcileEnvironment(env, {
    targets: { resolve: (name: string) => (name.startsWith('kubernetes') ? { target: k, qualifier: name.split(':')[1] ?? null } : { error: 'no such target' }) },
    log,
    signal: new AbortController().signal,
    applyTimeoutMs: 10_000,
    startRollout: async () => {},
  });
  const update = summarizeOutcome(env, result, { now: new Date(), resyncMs: 60_000, random: () => 0.5 });
  return { result, update, next: applyStatusUpdate(env, update) };
}

export type { FakeKubernetes };
export { onTeardown };

type Pass = Awaited<ReturnType<typeof controlPlanePass>>;

/**
 * Runs control-plane passes, each on the snapshot the previous one left (as the Postgres loop does), until `until`
 * holds for a pass; fails after `timeoutMs`.
 */
export async function converge(env: EnvironmentSnapshot, k: KubernetesTarget, until: (p: Pass) => boolean, timeoutMs = 20_000, log: TargetLog = silentLog): Promise<Pass> {
  const deadline = Date.now() + timeoutMs;
  let current = env;
  let last: Pass | undefined;
  while (Date.now() < deadline) {
    last = await controlPlanePass(current, k, log);
    if (until(last)) return last;
    if (last.next) current = last.next;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no pass matched within ${timeoutMs} ms; the last result: ${JSON.stringify(last?.result)}`);
}
