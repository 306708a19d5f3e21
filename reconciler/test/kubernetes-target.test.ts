/**
 * The kubernetes target against the strict fake API server, driven by the control plane's reconcile steps on an
 * in-memory snapshot (as the Postgres loop drives them): the WorkflowApp it applies, the tenant namespace from the
 * plan, the status it reads back, deletion, and each kind of bad input the issue lists (422, 403, 409, unreachable, a
 * hand edit, a namespace deleted under it).
 */
import { capturingLog } from '@wharf/testkit';
import t from 'tap';
import { ANNOTATIONS, FIELD_MANAGERS, LABELS } from '../src/index.js';
import { controlPlanePass, converge, operator, snapshotFor, specFor, startKube, target } from './kube-helpers.js';

const WA = ['wharf.dev/v1alpha1', 'WorkflowApp'] as const;

t.test('a WorkflowApp in the tenant namespace (labels, quota and limits from the plan); Ready flows back; deletion waits for the children', async (t) => {
  const { fake, kubeconfig } = await startKube(t);
  const k = target(t, kubeconfig, { tenantPlan: async () => 'pro' });
  const spec = specFor('shop', 'production', 'v1');
  const first = await controlPlanePass(snapshotFor(spec), k);
  t.match(first.result, { kind: 'waiting', reason: 'Progressing' }, 'applied; the operator rolls it out');
  const { name, namespace } = k.locate({ tenantId: 3, app: 'shop', name: 'production' });
  t.equal(namespace, 'wharf-t3');
  const wa = fake.get(...WA, namespace, name)!;
  t.same(wa.spec, spec, 'the spec is the environment spec');
  t.match(wa.metadata.labels, { [LABELS.tenant]: '3', [LABELS.app]: 'shop', [LABELS.environment]: 'production', [LABELS.managedBy]: 'wharf' });
  t.match(wa.metadata.annotations, { [ANNOTATIONS.generation]: '1', [ANNOTATIONS.url]: 'https://production--shop--t3.apps.example.test/' });
  t.same(wa.metadata.managedFields?.map((m) => m.manager), [FIELD_MANAGERS.controlPlane], 'applied by field manager wharf');
  t.match(fake.get('v1', 'Namespace', undefined, namespace)?.metadata.labels, { [LABELS.plan]: 'pro', [LABELS.tenant]: '3', 'pod-security.kubernetes.io/enforce': 'restricted' });
  t.match(fake.get('v1', 'ResourceQuota', namespace, 'wharf-plan')?.spec, { hard: { 'count/workflowapps.wharf.dev': '30', pods: '120' } }, 'pro: 10 production + 20 previews');
  t.ok(fake.get('v1', 'LimitRange', namespace, 'wharf-defaults'));

  const again = await controlPlanePass(first.next!, k);
  t.match(again.result, { kind: 'waiting', reason: 'Waiting' }, 'the operator has not acted yet: waiting, not applying again');

  const writesBefore = fake.counts().writes;
  await operator(t, kubeconfig);
  await fake.settle();
  const dep = await converge(first.next!, k, () => fake.get('apps/v1', 'Deployment', namespace, name) !== undefined).then(() => fake.get('apps/v1', 'Deployment', namespace, name)!);
  fake.markDeploymentAvailable(namespace, dep.metadata.name);
  const done = await converge(first.next!, k, (p) => p.result.kind === 'succeeded');
  t.match(done.result, { kind: 'succeeded', action: { type: 'create', reason: 'NewEnvironment' } });
  t.match(done.update, { observed: { digest: spec.version.digest }, history: { result: 'succeeded' }, outbox: [{ state: 'success' }], url: 'https://production--shop--t3.apps.example.test/' });
  const steady = await controlPlanePass(done.next!, k);
  t.match(steady.result, { kind: 'noop', reason: 'UpToDate' });
  const controlPlaneWrites = fake.requests.filter((r) => r.fieldManager === FIELD_MANAGERS.controlPlane && r.at >= 0).length;
  t.equal(controlPlaneWrites, 4, 'namespace, limits, quota and one WorkflowApp apply: observing costs no request');
  t.ok(fake.counts().writes > writesBefore);

  // Teardown: foreground deletion; `pending` until the garbage collector has removed the children.
  const gone = await converge({ ...steady.next!, generation: 2, deletionRequested: true }, k, (p) => p.result.kind === 'deleted');
  t.equal(gone.update.deleted, true);
  await fake.settle();
  t.equal(fake.get(...WA, namespace, name), undefined);
  t.same([fake.list('apps/v1', 'Deployment', namespace), fake.list('v1', 'Service', namespace), fake.list('v1', 'ConfigMap', namespace)].map((l) => l.length), [0, 0, 0], 'children collected');
  t.same(fake.problems, []);
});

t.test('422: a spec the CRD schema refuses stalls with the API server message', async (t) => {
  const { kubeconfig } = await startKube(t);
  const k = target(t, kubeconfig);
  const { result, update } = await controlPlanePass(snapshotFor(specFor('shop', 'production', 'v1', { replicas: 500 })), k);
  t.match(result, { kind: 'stalled', reason: 'InvalidSpec', message: /spec\.replicas.*less than or equal to 100/ });
  t.equal(update.nextAttemptInMs, null, 'not retried until the desired state changes');
});

t.test('403: RBAC without the verb stalls (Forbidden), naming the verb, the resource and the namespace', async (t) => {
  const { fake, tokenKubeconfig } = await startKube(t);
  const token = fake.addServiceAccount({
    namespace: 'wharf-system',
    name: 'control-plane',
    rules: [
      { apiGroups: ['wharf.dev'], resources: ['workflowapps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['namespaces', 'resourcequotas', 'limitranges'], verbs: ['get', 'patch'] },
    ],
  });
  const k = target(t, await tokenKubeconfig('no-patch', token));
  const { result } = await controlPlanePass(snapshotFor(specFor('shop', 'production', 'v1')), k);
  t.match(result, { kind: 'stalled', reason: 'Forbidden', message: /^forbidden: cannot patch workflowapps\.wharf\.dev in namespace "wharf-t3": .*cannot patch resource "workflowapps" in API group "wharf.dev"/ });

  const blind = fake.addServiceAccount({ namespace: 'wharf-system', name: 'blind', rules: [] });
  const k2 = target(t, await tokenKubeconfig('blind', blind));
  const { result: r2 } = await controlPlanePass(snapshotFor(specFor('shop', 'production', 'v1')), k2);
  t.match(r2, { kind: 'stalled', reason: 'Forbidden', message: /cannot list workflowapps\.wharf\.dev at the cluster scope/ }, 'even reading needs list and watch');
});

t.test('a WorkflowApp edited by hand is reverted (the 409 of the other manager is retried with force) and logged as drift', async (t) => {
  const { fake, kubeconfig } = await startKube(t, { deploymentsBecomeAvailable: true });
  const k = target(t, kubeconfig);
  await operator(t, kubeconfig);
  const spec = specFor('shop', 'production', 'v1');
  const ready = await converge(snapshotFor(spec), k, (p) => p.result.kind === 'succeeded');
  const { name, namespace } = k.locate({ tenantId: 3, app: 'shop', name: 'production' });
  // A person scales it by hand (kubectl edit → a merge patch by another field manager).
  const live = fake.get(...WA, namespace, name)!;
  const res = await fetch(`${fake.url}/apis/wharf.dev/v1alpha1/namespaces/${namespace}/workflowapps/${name}?fieldManager=kubectl-edit`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${fake.adminToken}`, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { replicas: 5 } }),
    // The fake's certificate is self-signed; this test talks to it directly.
    ...({ dispatcher: undefined } as object),
  }).catch(() => null);
  if (!res || res.status !== 200) {
    // Node's fetch does not take the fake's CA: patch through the target's own client instead.
    const { connectCluster, KINDS } = await import('../src/index.js');
    const conn = await connectCluster(kubeconfig, null, capturingLog().log);
    await conn.api.http.request({ method: 'PATCH', path: `/apis/wharf.dev/v1alpha1/namespaces/${namespace}/workflowapps/${name}`, query: { fieldManager: 'kubectl-edit' }, body: { spec: { replicas: 5 } }, contentType: 'application/merge-patch+json', what: { verb: 'patch', resource: KINDS.WorkflowApp.plural } });
    conn.close();
  }
  t.equal((fake.get(...WA, namespace, name)!.spec as { replicas: number }).replicas, 5, 'edited');
  t.not(fake.get(...WA, namespace, name)!.metadata.resourceVersion, live.metadata.resourceVersion);
  const log = capturingLog();
  const reverted = await converge(ready.next!, k, (p) => p.result.kind === 'succeeded', 20_000, log.log);
  t.match(reverted.result, { kind: 'succeeded', action: { drift: true } });
  t.match(reverted.next?.conditions.find((c) => c.type === 'Ready'), { reason: 'DriftCorrected' });
  t.equal((fake.get(...WA, namespace, name)!.spec as { replicas: number }).replicas, 1, 'Git wins: the spec is Wharf\'s again');
  t.ok(log.lines.some((l) => l.level === 'warn' && (l.obj as { drift?: boolean }).drift === true && /taking its fields back|reverting/.test(l.msg)), 'logged as drift');
  const owners = fake.get(...WA, namespace, name)!.metadata.managedFields?.map((m) => m.manager) ?? [];
  t.ok(owners.includes(FIELD_MANAGERS.controlPlane));
  t.same(fake.problems, []);
});

t.test('API server unreachable: Waiting (ApiUnavailable), nothing deleted; back once it answers', async (t) => {
  const { fake, kubeconfig } = await startKube(t, { deploymentsBecomeAvailable: true });
  const k = target(t, kubeconfig);
  await operator(t, kubeconfig);
  const ready = await converge(snapshotFor(specFor('shop', 'production', 'v1')), k, (p) => p.result.kind === 'succeeded');
  await fake.pause();
  const away = await converge(ready.next!, k, (p) => p.result.kind !== 'noop', 20_000);
  t.match(away.result, { kind: 'waiting', reason: 'ApiUnavailable', message: /cannot be reached/ });
  t.equal(away.update.failureCount, undefined, 'not counted as a failure');
  const teardown = await controlPlanePass({ ...ready.next!, generation: 2, deletionRequested: true }, k);
  t.match(teardown.result, { kind: 'waiting', reason: 'ApiUnavailable' });
  t.notOk(teardown.update.deleted, 'the environment is not removed while the cluster cannot confirm it');
  await fake.resume();
  const back = await converge(ready.next!, k, (p) => p.result.kind === 'noop');
  t.match(back.result, { kind: 'noop', reason: 'UpToDate' });
  t.ok(fake.get(...WA, ...Object.values(k.locate({ tenantId: 3, app: 'shop', name: 'production' })).reverse() as [string, string]), 'nothing was deleted');
});

t.test('a namespace deleted under it is created again, with the WorkflowApp', async (t) => {
  const { fake, kubeconfig } = await startKube(t, { deploymentsBecomeAvailable: true });
  const k = target(t, kubeconfig);
  await operator(t, kubeconfig);
  const ready = await converge(snapshotFor(specFor('shop', 'production', 'v1')), k, (p) => p.result.kind === 'succeeded');
  const { name, namespace } = k.locate({ tenantId: 3, app: 'shop', name: 'production' });
  fake.deleteObject('v1', 'Namespace', undefined, namespace);
  await fake.settle();
  t.equal(fake.get('v1', 'Namespace', undefined, namespace), undefined, 'gone, with everything in it');
  const back = await converge(ready.next!, k, (p) => p.result.kind === 'succeeded');
  t.match(back.result, { kind: 'succeeded', action: { drift: true } }, 'put back as drift');
  t.ok(fake.get('v1', 'Namespace', undefined, namespace), 'namespace created again');
  t.ok(fake.get('v1', 'ResourceQuota', namespace, 'wharf-plan'), 'with its quota');
  t.ok(fake.get(...WA, namespace, name));
  t.ok(fake.get('apps/v1', 'Deployment', namespace, name), 'and the operator ran it again');
});

t.test('kubernetes:<cluster> uses the kubeconfig context of that name; an unknown one stalls', async (t) => {
  const { fake, kubeconfig } = await startKube(t);
  const k = target(t, kubeconfig);
  const context = (fake.clientOptions().contexts[0]!).name;
  const named = await controlPlanePass(snapshotFor(specFor('shop', 'production', 'v1'), {}, `kubernetes:${context}`), k);
  t.match(named.result, { kind: 'waiting', reason: 'Progressing' });
  const unknown = await controlPlanePass(snapshotFor(specFor('shop', 'production', 'v1'), {}, 'kubernetes:eu-1'), k);
  t.match(unknown.result, { kind: 'stalled', reason: 'UnknownTarget', message: /no context named "eu-1"/ });
});
