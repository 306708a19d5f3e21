/**
 * The operator against the strict fake API server: what it makes of a WorkflowApp (children with owner references,
 * an immutable ConfigMap by digest, a locked-down Deployment, a Service, an Ingress or HTTPRoute, a volume claim for
 * apps that keep files), the status it writes through the subresource, rollouts, level-triggered repair of deleted and
 * edited children, refusals, status conflicts, watch expiry, and leader election.
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { capturingLog, type FakeKubernetes, silentLog, waitFor } from '@wharf/testkit';
import t from 'tap';
import { connectCluster, createOperator, FIELD_MANAGERS, KINDS, LABELS, type Operator } from '../src/index.js';
import { CHILDREN_CONFIG, onTeardown, operator, specFor, startKube } from './kube-helpers.js';

const NS = 'wharf-t1';
type Obj = NonNullable<ReturnType<FakeKubernetes['get']>>;
type Status = { observedGeneration?: number; observedDigest?: string; url?: string; readyReplicas?: number; conditions?: { type: string; status: string; reason: string; message: string }[] };

/** Creates (or replaces the spec of) a WorkflowApp as the control plane would, with the admin's client. */
async function putWorkflowApp(kubeconfig: string, name: string, spec: object, annotations: Record<string, string> = {}) {
  const conn = await connectCluster(kubeconfig, null, silentLog);
  try {
    await conn.api.apply(KINDS.Namespace, { metadata: { name: NS } }, { manager: 'wharf', force: true });
    return await conn.api.apply(KINDS.WorkflowApp, { metadata: { name, namespace: NS, labels: { [LABELS.tenant]: '1', [LABELS.app]: 'shop', [LABELS.environment]: 'production' }, annotations }, spec: spec as Record<string, unknown> }, { manager: 'wharf', force: true });
  } finally {
    conn.close();
  }
}

const statusOf = (fake: FakeKubernetes, name: string) => (fake.get('wharf.dev/v1alpha1', 'WorkflowApp', NS, name)?.status ?? {}) as Status;
const cond = (s: Status, type: string) => s.conditions?.find((c) => c.type === type);
const until = <T>(what: string, fn: () => T | undefined | false) => waitFor(what, async () => fn(), 20_000, 25);

t.test('children with owner references; status through the subresource; Ready only once the Deployment is available', async (t) => {
  const { fake, kubeconfig } = await startKube(t);
  const spec = specFor('shop', 'production', 'v1', { env: [{ name: 'GREETING', value: 'hi' }, { name: 'TOKEN', secretRef: { name: 'shop-secrets', key: 'token' } }], resources: { cpu: '250m', memory: '256Mi' } });
  const wa = await putWorkflowApp(kubeconfig, 'shop', spec, { 'wharf.dev/url': 'https://production--shop--t1.apps.example.test/' });
  const op = await operator(t, kubeconfig);
  const dep = await until('the Deployment', () => fake.get('apps/v1', 'Deployment', NS, 'shop'));
  await until('status Progressing', () => cond(statusOf(fake, 'shop'), 'Progressing')?.status === 'True');
  let status = statusOf(fake, 'shop');
  t.equal(status.observedGeneration, 1);
  t.match(cond(status, 'Ready'), undefined, 'not Ready while nothing is available');

  const owner = { apiVersion: 'wharf.dev/v1alpha1', kind: 'WorkflowApp', name: 'shop', uid: wa.metadata.uid, controller: true, blockOwnerDeletion: true };
  const cmName = `shop-${spec.version.digest.slice(7, 16)}`;
  const children: [string, Obj | undefined][] = [
    ['Deployment', dep],
    ['ConfigMap', fake.get('v1', 'ConfigMap', NS, cmName)],
    ['Service', fake.get('v1', 'Service', NS, 'shop')],
    ['Ingress', fake.get('networking.k8s.io/v1', 'Ingress', NS, 'shop')],
  ];
  for (const [kind, child] of children) {
    t.ok(child, `${kind} exists`);
    t.same(child?.metadata.ownerReferences, [owner], `${kind} is owned by the WorkflowApp`);
    t.match(child?.metadata.labels, { [LABELS.managedBy]: 'wharf-operator', [LABELS.workflowApp]: 'shop' });
    t.same(child?.metadata.managedFields?.map((m) => m.manager), [FIELD_MANAGERS.operator], `${kind} written by wharf-operator`);
  }
  // Each child is valid for its kind (the models of kubernetes-models, generated from the Kubernetes OpenAPI).
  t.doesNotThrow(() => new Deployment(dep as never).validate());
  t.doesNotThrow(() => new ConfigMap(children[1]![1] as never).validate());
  t.doesNotThrow(() => new Service(children[2]![1] as never).validate());
  t.doesNotThrow(() => new Ingress(children[3]![1] as never).validate());

  const cm = children[1]![1]!;
  t.equal(cm.immutable, true, 'the ConfigMap is immutable, named by digest');
  t.equal(Object.values(cm.data as Record<string, string>)[0], spec.files[0]!.content);
  const pod = (dep.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
    automountServiceAccountToken: boolean;
    securityContext: { runAsNonRoot: boolean };
    containers: { image: string; args: string[]; env: { name: string; value?: string; valueFrom?: unknown }[]; readinessProbe: { httpGet: { path: string; httpHeaders: { value: string }[] } }; securityContext: { readOnlyRootFilesystem: boolean }; resources: unknown; volumeMounts: { name: string; readOnly?: boolean }[] }[];
  };
  const c = pod.containers[0]!;
  t.equal(pod.automountServiceAccountToken, false, 'no service account token');
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.equal(c.securityContext.readOnlyRootFilesystem, true);
  t.equal(c.image, CHILDREN_CONFIG.runtimeImage);
  t.match(c.args.join(' '), /--config \/etc\/wharf\/config\/app\.yaml --host 0\.0\.0\.0 --port 8080 --data-dir \/var\/lib\/wharf\/data --digest sha256:v1/);
  t.same(c.readinessProbe.httpGet.path, '/.wharf/healthz');
  t.equal(c.readinessProbe.httpGet.httpHeaders[0]!.value, spec.version.digest, 'readiness checks the digest');
  t.match(c.env, [{ name: 'GREETING', value: 'hi' }, { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'shop-secrets', key: 'token' } } }]);
  t.same(c.resources, { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '256Mi' } });
  t.match(c.volumeMounts.find((m) => m.name === 'config'), { readOnly: true });

  fake.markDeploymentAvailable(NS, 'shop');
  await until('Ready', () => cond(statusOf(fake, 'shop'), 'Ready')?.status === 'True');
  status = statusOf(fake, 'shop');
  t.match(status, { observedGeneration: 1, observedDigest: spec.version.digest, url: 'https://production--shop--t1.apps.example.test/', readyReplicas: 1 });
  const wa2 = fake.get('wharf.dev/v1alpha1', 'WorkflowApp', NS, 'shop')!;
  t.match(wa2.metadata.managedFields?.find((m) => m.manager === FIELD_MANAGERS.operator), { subresource: 'status' }, 'status written through the subresource');
  await op.idle();
  t.same(fake.problems, []);
});

t.test('a rollout is a new ConfigMap; Ready waits for it; the previous ConfigMap is kept, older ones pruned', async (t) => {
  const { fake, kubeconfig } = await startKube(t, { deploymentsBecomeAvailable: true });
  await putWorkflowApp(kubeconfig, 'shop', specFor('shop', 'production', 'v1'));
  const op = await operator(t, kubeconfig);
  await until('v1 Ready', () => statusOf(fake, 'shop').observedDigest === specFor('shop', 'production', 'v1').version.digest);
  const statusWrites = (since: number) => fake.requests.filter((r) => r.at >= since && r.verb === 'patch' && r.resource === 'wharf.dev/workflowapps' && r.subresource === 'status').length;
  let v3Since = 0;
  for (const v of ['v2', 'v3']) {
    v3Since = Date.now();
    await putWorkflowApp(kubeconfig, 'shop', specFor('shop', 'production', v));
    await until(`${v} Ready`, () => statusOf(fake, 'shop').observedDigest === specFor('shop', 'production', v).version.digest && cond(statusOf(fake, 'shop'), 'Ready')?.status === 'True');
  }
  await op.idle();
  // The pruned ConfigMap wakes the WorkflowApp once more; a look that changes nothing writes no status.
  await new Promise((r) => setTimeout(r, 300));
  await op.idle();
  t.equal(statusWrites(v3Since), 2, 'two status writes for the v3 rollout: Progressing, then Ready');
  const names = fake.list('v1', 'ConfigMap', NS).map((c) => c.metadata.name).sort();
  t.same(names, ['shop-v20000000', 'shop-v30000000'], 'current and previous only');
  const tpl = (fake.get('apps/v1', 'Deployment', NS, 'shop')!.spec as { template: { spec: { volumes: { name: string; configMap?: { name: string } }[] } } }).template.spec;
  t.equal(tpl.volumes.find((v) => v.name === 'config')?.configMap?.name, 'shop-v30000000');
  t.equal(statusOf(fake, 'shop').observedGeneration, 3);
});

t.test('level-triggered: a deleted child is created again, an edited field put back, and both logged as drift', async (t) => {
  const { fake, kubeconfig } = await startKube(t, { deploymentsBecomeAvailable: true });
  await putWorkflowApp(kubeconfig, 'shop', specFor('shop', 'production', 'v1'));
  const log = capturingLog();
  const op = await operator(t, kubeconfig, {}, log.log);
  await until('Ready', () => cond(statusOf(fake, 'shop'), 'Ready')?.status === 'True');
  const svcUid = fake.get('v1', 'Service', NS, 'shop')!.metadata.uid;
  fake.deleteObject('v1', 'Service', NS, 'shop');
  const svc = await until('the Service again', () => {
    const s = fake.get('v1', 'Service', NS, 'shop');
    return s && s.metadata.uid !== svcUid ? s : undefined;
  });
  t.ok(svc, 'created again');

  // kubectl scale / edit by a person: another field manager changes replicas and the container image.
  const conn = await connectCluster(kubeconfig, null, silentLog);
  onTeardown(t, () => conn.close());
  await conn.api.http.request({
    method: 'PATCH',
    path: '/apis/apps/v1/namespaces/wharf-t1/deployments/shop',
    query: { fieldManager: 'kubectl-edit' },
    body: { spec: { replicas: 3, template: { spec: { containers: [{ name: 'runtime', image: 'evil:latest' }] } } } },
    contentType: 'application/strategic-merge-patch+json',
    what: { verb: 'patch', resource: 'deployments' },
  }).catch(async () =>
    conn.api.http.request({ method: 'PATCH', path: '/apis/apps/v1/namespaces/wharf-t1/deployments/shop', query: { fieldManager: 'kubectl-edit' }, body: { spec: { replicas: 3 } }, contentType: 'application/merge-patch+json', what: { verb: 'patch', resource: 'deployments' } }),
  );
  await until('replicas put back', () => (fake.get('apps/v1', 'Deployment', NS, 'shop')!.spec as { replicas: number }).replicas === 1);
  await op.idle();
  t.ok(log.lines.some((l) => l.msg === 'drift corrected: the children were put back'), 'logged as drift');
  t.same(fake.problems, []);
});

t.test('an app that keeps files gets a volume claim kept across rollouts and a Recreate strategy; it goes with the WorkflowApp', async (t) => {
  const { fake, kubeconfig } = await startKube(t, { deploymentsBecomeAvailable: true });
  const sqlite = (v: string) => specFor('shop', 'production', v, { files: [{ path: 'app.yaml', content: `# ${v}\nmodules:\n  - name: db\n    type: storage.sqlite\n    config:\n      dbPath: shop.db\n` }] });
  await putWorkflowApp(kubeconfig, 'shop', sqlite('v1'));
  await operator(t, kubeconfig);
  const dep = await until('the Deployment', () => fake.get('apps/v1', 'Deployment', NS, 'shop'));
  const pvc = fake.get('v1', 'PersistentVolumeClaim', NS, 'shop')!;
  t.doesNotThrow(() => new PersistentVolumeClaim(pvc as never).validate());
  t.match(dep.spec, { strategy: { type: 'Recreate' }, template: { spec: { volumes: [{}, { name: 'data', persistentVolumeClaim: { claimName: 'shop' } }] } } });
  await until('v1 Ready', () => cond(statusOf(fake, 'shop'), 'Ready')?.status === 'True');
  await putWorkflowApp(kubeconfig, 'shop', sqlite('v2'));
  await until('v2 Ready', () => statusOf(fake, 'shop').observedDigest === sqlite('v2').version.digest && cond(statusOf(fake, 'shop'), 'Ready')?.status === 'True');
  t.equal(fake.get('v1', 'PersistentVolumeClaim', NS, 'shop')?.metadata.uid, pvc.metadata.uid, 'the same claim across the rollout');
  fake.deleteObject('wharf.dev/v1alpha1', 'WorkflowApp', NS, 'shop', 'Foreground');
  await fake.settle();
  await until('everything gone', () => !fake.get('wharf.dev/v1alpha1', 'WorkflowApp', NS, 'shop') && !fake.get('v1', 'PersistentVolumeClaim', NS, 'shop') && !fake.get('apps/v1', 'Deployment', NS, 'shop'));
  t.pass('the claim is deleted with the environment');
});

t.test('HTTPRoute instead of Ingress (a setting): a valid Gateway API route to the Service', async (t) => {
  const { fake, kubeconfig } = await startKube(t);
  await putWorkflowApp(kubeconfig, 'shop', specFor('shop', 'production', 'v1'), { 'wharf.dev/url': 'https://production--shop--t1.apps.example.test/' });
  await operator(t, kubeconfig, { config: { ...CHILDREN_CONFIG, route: 'httproute', gateway: 'gateways/public' } });
  const route = await until('the HTTPRoute', () => fake.get('gateway.networking.k8s.io/v1', 'HTTPRoute', NS, 'shop'));
  t.doesNotThrow(() => new HTTPRoute(route as never).validate(), 'valid for the Gateway API models');
  t.match(route.spec, { parentRefs: [{ namespace: 'gateways', name: 'public' }], hostnames: ['production--shop--t1.apps.example.test'], rules: [{ backendRefs: [{ name: 'shop', port: 80 }] }] });
  t.equal(fake.get('networking.k8s.io/v1', 'Ingress', NS, 'shop'), undefined);
});

t.test('refusals stall with a reason: an image the operator does not allow, a path that leaves the app', async (t) => {
  const { fake, kubeconfig } = await startKube(t);
  await putWorkflowApp(kubeconfig, 'evil', specFor('evil', 'production', 'v1', { runtime: { image: 'docker.io/evil/miner:latest' } }));
  await putWorkflowApp(kubeconfig, 'escape', specFor('escape', 'production', 'v1', { files: [{ path: '../../etc/passwd', content: 'x' }] }));
  await putWorkflowApp(kubeconfig, 'preload', specFor('preload', 'production', 'v1', { env: [{ name: 'NODE_OPTIONS', value: '--require=/etc/wharf/config/x.js' }] }));
  await putWorkflowApp(kubeconfig, 'lookalike', specFor('lookalike', 'production', 'v1', { runtime: { image: 'ghcr.io/wharf-dev/apps-evil/miner:1' } }));
  await operator(t, kubeconfig, { config: { ...CHILDREN_CONFIG, allowedImages: ['ghcr.io/wharf-dev/apps'] } });
  const evil = await until('evil stalled', () => cond(statusOf(fake, 'evil'), 'Stalled')?.status === 'True' && cond(statusOf(fake, 'evil'), 'Stalled'));
  t.match(evil, { reason: 'Forbidden', message: /runtime.image "docker.io\/evil\/miner:latest" is not allowed/ });
  const escape = await until('escape stalled', () => cond(statusOf(fake, 'escape'), 'Stalled')?.status === 'True' && cond(statusOf(fake, 'escape'), 'Stalled'));
  t.match(escape, { reason: 'InvalidSpec', message: /not a relative path inside the app/ });
  const preload = await until('preload stalled', () => cond(statusOf(fake, 'preload'), 'Stalled')?.status === 'True' && cond(statusOf(fake, 'preload'), 'Stalled'));
  t.match(preload, { reason: 'Forbidden', message: /env var NODE_OPTIONS is reserved/ });
  const lookalike = await until('lookalike stalled', () => cond(statusOf(fake, 'lookalike'), 'Stalled')?.status === 'True' && cond(statusOf(fake, 'lookalike'), 'Stalled'));
  t.match(lookalike, { reason: 'Forbidden', message: /is not allowed/ }, 'an allowed prefix matches at a path boundary only');
  t.equal(fake.get('apps/v1', 'Deployment', NS, 'evil'), undefined, 'nothing runs');
});

t.test('an operator whose service account may not write Deployments stalls (Forbidden), naming verb and resource', async (t) => {
  const { fake, kubeconfig, tokenKubeconfig } = await startKube(t);
  const token = fake.addServiceAccount({
    namespace: 'wharf-system',
    name: 'operator',
    rules: [
      { apiGroups: ['wharf.dev'], resources: ['workflowapps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['wharf.dev'], resources: ['workflowapps/status'], verbs: ['get', 'patch', 'update'] },
      { apiGroups: [''], resources: ['configmaps', 'services', 'persistentvolumeclaims'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch', 'patch'] },
    ],
  });
  await putWorkflowApp(kubeconfig, 'shop', specFor('shop', 'production', 'v1'));
  const log = capturingLog('warn');
  await operator(t, await tokenKubeconfig('operator', token), {}, log.log);
  const denied = await until('shop stalled', () => cond(statusOf(fake, 'shop'), 'Stalled')?.status === 'True' && cond(statusOf(fake, 'shop'), 'Stalled')).catch((err) => { console.log(JSON.stringify(statusOf(fake, 'shop')), log.lines.slice(0, 5).map((l) => JSON.stringify(l.obj).slice(0, 600))); throw err; });
  t.match(denied, { reason: 'Forbidden', message: /cannot patch deployments\.apps in namespace "wharf-t1"/ });
});

t.test('a status write that meets a newer resourceVersion (409) is retried', async (t) => {
  const { fake, kubeconfig } = await startKube(t);
  await putWorkflowApp(kubeconfig, 'shop', specFor('shop', 'production', 'v1'));
  let release = () => {};
  fake.inject({ verb: 'patch', resource: 'workflowapps', fault: { kind: 'hold', release: new Promise<void>((r) => (release = r)) } });
  await operator(t, kubeconfig);
  await until('the status write is held', () => fake.requests.some((r) => r.verb === 'patch' && r.subresource === 'status'));
  // Meanwhile someone labels the WorkflowApp: its resourceVersion moves on.
  const conn = await connectCluster(kubeconfig, null, silentLog);
  onTeardown(t, () => conn.close());
  await conn.api.http.request({ method: 'PATCH', path: `/apis/wharf.dev/v1alpha1/namespaces/${NS}/workflowapps/shop`, query: { fieldManager: 'someone' }, body: { metadata: { labels: { team: 'a' } } }, contentType: 'application/merge-patch+json', what: { verb: 'patch', resource: 'workflowapps' } });
  release();
  await until('status written', () => statusOf(fake, 'shop').observedGeneration === 1);
  const writes = fake.requests.filter((r) => r.verb === 'patch' && r.subresource === 'status').map((r) => r.status);
  t.same(writes.slice(0, 2), [409, 200], 'the stale write got 409, the retry went through');
});

t.test('a watch expired (410) lists again and misses nothing; watches ask for bookmarks and last minutes', async (t) => {
  const { fake, kubeconfig } = await startKube(t, { deploymentsBecomeAvailable: true });
  const op = await operator(t, kubeconfig);
  await putWorkflowApp(kubeconfig, 'one', specFor('one', 'production', 'v1'));
  await until('one runs', () => fake.get('apps/v1', 'Deployment', NS, 'one'));
  let release = () => {};
  fake.inject({ verb: 'watch', resource: 'workflowapps', fault: { kind: 'hold', release: new Promise<void>((r) => (release = r)) } });
  fake.closeWatches();
  await putWorkflowApp(kubeconfig, 'two', specFor('two', 'production', 'v1'));
  fake.compact();
  release();
  await until('two runs', () => fake.get('apps/v1', 'Deployment', NS, 'two'));
  const watches = fake.requests.filter((r) => r.verb === 'watch');
  t.ok(watches.every((w) => /allowWatchBookmarks=true/.test(w.path) && Number(/timeoutSeconds=(\d+)/.exec(w.path)?.[1]) >= 300), 'bookmarks, and at least 5 minutes per watch');
  t.ok(fake.requests.filter((r) => r.verb === 'list' && r.resource === 'wharf.dev/workflowapps').length >= 2, 'listed again after 410');
  await op.idle();
  t.same(fake.problems, []);
});

t.test('leader election: one replica leads through a Lease; the standby takes over when it stops', async (t) => {
  const { fake, kubeconfig } = await startKube(t, { deploymentsBecomeAvailable: true, namespaces: ['default', 'wharf-system'] });
  const conns = await Promise.all([1, 2].map(() => connectCluster(kubeconfig, null, silentLog)));
  onTeardown(t, () => conns.forEach((c) => c.close()));
  const ops: Operator[] = conns.map((conn, i) =>
    createOperator({ api: conn.api, config: CHILDREN_CONFIG, log: silentLog, leaderElection: { namespace: 'wharf-system', name: 'wharf-operator', identity: `op-${i}`, leaseSeconds: 6 } }),
  );
  onTeardown(t, () => Promise.all(ops.map((o) => o.stop())));
  await ops[0]!.start();
  await until('op-0 leads', () => ops[0]!.isLeader);
  await ops[1]!.start();
  await new Promise((r) => setTimeout(r, 500));
  t.notOk(ops[1]!.isLeader, 'the second stands by');
  const lease = fake.get('coordination.k8s.io/v1', 'Lease', 'wharf-system', 'wharf-operator')!;
  t.match(lease.spec, { holderIdentity: 'op-0', leaseDurationSeconds: 6 });
  await putWorkflowApp(kubeconfig, 'shop', specFor('shop', 'production', 'v1'));
  await until('run by the leader', () => fake.get('apps/v1', 'Deployment', NS, 'shop'));
  await ops[0]!.stop();
  await until('op-1 leads', () => ops[1]!.isLeader, );
  t.match(fake.get('coordination.k8s.io/v1', 'Lease', 'wharf-system', 'wharf-operator')!.spec, { holderIdentity: 'op-1', leaseTransitions: 1 });
  await putWorkflowApp(kubeconfig, 'next', specFor('next', 'production', 'v1'));
  await until('run by the new leader', () => fake.get('apps/v1', 'Deployment', NS, 'next'));
});
