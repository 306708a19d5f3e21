/**
 * @kubernetes/client-node (the library the kubernetes target and the operator use) against the fake: server-side
 * apply conflicts and ownership, optimistic concurrency, the status subresource, watches with bookmarks and 410,
 * RBAC denial and CRD validation, each with the body a real API server sends.
 */
import path from 'node:path';
import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  ListWatch,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type KubernetesObject,
  type KubernetesListObject,
} from '@kubernetes/client-node';
import t, { type Test } from 'tap';
import { startFakeKubernetes, type FakeKubernetes } from '../src/fake-kubernetes/index.js';
import type { Json } from './helpers/kube-http.js';

const CRD = path.resolve(import.meta.dirname, '../../../crds/workflowapps.wharf.dev.yaml');

type WorkflowApp = KubernetesObject & { spec: Record<string, unknown>; status?: Record<string, unknown> };

const app = (name: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>): WorkflowApp => ({
  apiVersion: 'wharf.dev/v1alpha1',
  kind: 'WorkflowApp',
  metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) },
  spec: {
    app: 'hello',
    environment: 'production',
    version: { sha: 'abcdef1', digest: 'sha256-1' },
    files: [{ path: 'workflow.yaml', content: 'modules: []\n' }],
    runtime: {},
    replicas: 1,
    env: [],
    ...spec,
  },
});

async function setup(t: Test, token?: (fake: FakeKubernetes) => string) {
  const fake = await startFakeKubernetes({ crdFiles: [CRD] });
  t.teardown(() => fake.close());
  const kc = new KubeConfig();
  kc.loadFromOptions(fake.clientOptions({ namespace: 'default', token: token?.(fake) }));
  return { fake, kc, objects: KubernetesObjectApi.makeApiClient(kc), custom: kc.makeApiClient(CustomObjectsApi) };
}

/** The Status body of a failed call, as client-node hands it over. */
async function failure(p: Promise<unknown>): Promise<{ code: number; status: Json }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = typeof err.body === 'string' ? (JSON.parse(err.body) as Json) : (err.body as Json);
    return { code: err.code, status: body };
  }
  throw new Error('expected the call to fail');
}

const apply = (objects: KubernetesObjectApi, obj: WorkflowApp, manager: string, force = false) =>
  objects.patch(obj, undefined, undefined, manager, force, PatchStrategy.ServerSideApply);

t.test('server-side apply: a field another manager owns is a 409 naming it; force takes the field over', async (t) => {
  const { fake, objects } = await setup(t);
  const created = await apply(objects, app('hello'), 'wharf');
  t.equal(created.metadata?.generation, 1);

  const conflict = await failure(apply(objects, app('hello', { replicas: 3 }), 'platform-team'));
  t.equal(conflict.code, 409);
  t.match(conflict.status, {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'Conflict',
    code: 409,
    message: 'Apply failed with 1 conflict: conflict with "wharf": .spec.replicas',
    details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "wharf"', field: '.spec.replicas' }] },
  });
  t.equal((fake.get('wharf.dev/v1alpha1', 'WorkflowApp', 'default', 'hello')!.spec as { replicas: number }).replicas, 1, 'nothing changed');

  const same = await apply(objects, app('hello'), 'platform-team');
  t.same(same.metadata?.managedFields?.map((m) => m.manager), ['wharf', 'platform-team'], 'the same value is shared, not a conflict');

  const forced = await apply(objects, app('hello', { replicas: 3 }), 'platform-team', true);
  t.equal((forced.spec as { replicas: number }).replicas, 3);
  t.equal(forced.metadata?.generation, 2);
  const owners = Object.fromEntries((forced.metadata?.managedFields ?? []).map((m) => [m.manager, JSON.stringify(m.fieldsV1)]));
  t.notMatch(owners.wharf, 'f:replicas', 'wharf lost spec.replicas');
  t.match(owners['platform-team'], 'f:replicas');

  const back = await failure(apply(objects, app('hello', { replicas: 1, environment: 'staging' }), 'wharf'));
  t.equal(back.status.message, 'Apply failed with 2 conflicts: conflicts with "platform-team":\n- .spec.environment\n- .spec.replicas');
});

t.test('server-side apply removes what a manager stops applying, unless another manager owns it', async (t) => {
  const { objects } = await setup(t);
  await apply(objects, app('hello', {}, { team: 'a', tier: 'web' }), 'wharf');
  await apply(objects, app('hello', {}, { tier: 'web', owner: 'ops' }), 'ops');
  const after = await apply(objects, app('hello'), 'wharf');
  t.same(after.metadata?.labels, { tier: 'web', owner: 'ops' }, 'team went with wharf; tier stays because ops applies it too');
});

t.test('an update by another writer is owned by it, and a later apply conflicts with it', async (t) => {
  const { objects } = await setup(t);
  await apply(objects, app('hello'), 'wharf');
  await objects.patch(
    { apiVersion: 'wharf.dev/v1alpha1', kind: 'WorkflowApp', metadata: { name: 'hello', namespace: 'default' }, spec: { replicas: 5 } } as WorkflowApp,
    undefined,
    undefined,
    'kubectl-edit',
    undefined,
    PatchStrategy.MergePatch,
  );
  const conflict = await failure(apply(objects, app('hello'), 'wharf'));
  t.equal(conflict.status.message, 'Apply failed with 1 conflict: conflict with "kubectl-edit" using wharf.dev/v1alpha1: .spec.replicas');
});

t.test('optimistic concurrency: a stale resourceVersion is a 409 Conflict', async (t) => {
  const { objects } = await setup(t);
  await apply(objects, app('hello'), 'wharf');
  const read = await objects.read<WorkflowApp>({ apiVersion: 'wharf.dev/v1alpha1', kind: 'WorkflowApp', metadata: { name: 'hello', namespace: 'default' } });
  const stale = structuredClone(read);
  read.spec.replicas = 2;
  const replaced = await objects.replace(read);
  t.not(replaced.metadata?.resourceVersion, stale.metadata?.resourceVersion);
  stale.spec.replicas = 4;
  const conflict = await failure(objects.replace(stale));
  t.equal(conflict.code, 409);
  t.match(conflict.status, {
    reason: 'Conflict',
    message: 'Operation cannot be fulfilled on workflowapps.wharf.dev "hello": the object has been modified; please apply your changes to the latest version and try again',
    details: { name: 'hello', group: 'wharf.dev', kind: 'workflowapps' },
  });
  delete stale.metadata!.resourceVersion;
  const unconditional = await failure(objects.replace(stale));
  t.equal(unconditional.code, 422, 'custom resources refuse an update without resourceVersion');
  t.match(unconditional.status.message, 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
});

t.test('the status subresource: spec changes bump generation, status changes do not, and neither path writes the other', async (t) => {
  const { fake, objects, custom } = await setup(t);
  await apply(objects, app('hello'), 'wharf');
  const status = { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Available', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
  const written = (await custom.patchNamespacedCustomObjectStatus(
    { group: 'wharf.dev', version: 'v1alpha1', namespace: 'default', plural: 'workflowapps', name: 'hello', body: { status, spec: { replicas: 9 } }, fieldManager: 'wharf-operator' },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as WorkflowApp;
  t.same(written.status, status);
  t.equal(written.spec.replicas, 1, 'a status write does not change the spec');
  t.equal(written.metadata?.generation, 1, 'nor the generation');
  const statusOwner = written.metadata?.managedFields?.find((m) => m.manager === 'wharf-operator');
  t.equal(statusOwner?.subresource, 'status');

  const changed = await apply(objects, { ...app('hello', { replicas: 2 }), status: { observedGeneration: 99 } }, 'wharf');
  t.equal(changed.metadata?.generation, 2, 'a spec change bumps the generation');
  t.same(changed.status, status, 'status in a main-resource apply is ignored');
  t.same(fake.problems, []);
});

t.test('watch: events from a resourceVersion, BOOKMARKs, and 410 Expired once that version is compacted', async (t) => {
  const { fake, kc, objects } = await setup(t);
  const path = '/apis/wharf.dev/v1alpha1/namespaces/default/workflowapps';
  const list = await objects.list<WorkflowApp>('wharf.dev/v1alpha1', 'WorkflowApp', 'default');
  const from = list.metadata?.resourceVersion;
  t.ok(from);

  const events: { type: string; object: Json }[] = [];
  let wake = () => {};
  const next = (count: number) =>
    new Promise<void>((resolve) => {
      wake = () => events.length >= count && resolve();
      wake();
    });
  const watch = new Watch(kc);
  const ended = new Promise<unknown>((resolve) => {
    void watch.watch(path, { resourceVersion: from, allowWatchBookmarks: true }, (type, object) => {
      events.push({ type, object });
      wake();
    }, resolve);
  });
  await apply(objects, app('one'), 'wharf');
  await next(1);
  t.equal(events[0]!.type, 'ADDED');
  t.equal(events[0]!.object.metadata.name, 'one');
  fake.bookmark();
  await next(2);
  t.same(events[1], { type: 'BOOKMARK', object: { kind: 'WorkflowApp', apiVersion: 'wharf.dev/v1alpha1', metadata: { resourceVersion: events[0]!.object.metadata.resourceVersion } } });
  fake.closeWatches();
  await ended;

  // A second object moves the store on; compaction then makes `from` too old.
  await apply(objects, app('two'), 'wharf');
  fake.compact();
  const expired: { type: string; object: Json }[] = [];
  await new Promise<unknown>((resolve) => void watch.watch(path, { resourceVersion: from }, (type, object) => expired.push({ type, object }), resolve));
  t.equal(expired.length, 1);
  t.equal(expired[0]!.type, 'ERROR');
  t.match(expired[0]!.object, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: new RegExp(`^too old resource version: ${from} \\(\\d+\\)$`) });
});

t.test('an informer (ListWatch) relists after 410 and sees what changed while it was away', async (t) => {
  const { fake, kc, objects } = await setup(t);
  const path = '/apis/wharf.dev/v1alpha1/namespaces/default/workflowapps';
  const listFn = () => objects.list('wharf.dev/v1alpha1', 'WorkflowApp', 'default') as Promise<KubernetesListObject<WorkflowApp>>;
  const seen = new Set<string>();
  let wake = () => {};
  const until = (name: string) =>
    new Promise<void>((resolve) => {
      wake = () => seen.has(name) && resolve();
      wake();
    });
  const informer = new ListWatch<WorkflowApp>(path, new Watch(kc), listFn, false);
  informer.on('add', (o) => {
    seen.add(o.metadata!.name!);
    wake();
  });
  const errors: unknown[] = [];
  informer.on('error', (err) => errors.push(err));
  await informer.start();
  await apply(objects, app('first'), 'wharf');
  await until('first');
  const listsBefore = fake.counts().byVerb.list;

  // The informer's next watch waits until a write and a compaction have made its resourceVersion too old.
  let release = () => {};
  fake.inject({ verb: 'watch', fault: { kind: 'hold', release: new Promise<void>((r) => (release = r)) } });
  fake.closeWatches();
  await apply(objects, app('while-away'), 'wharf');
  fake.compact();
  release();
  await until('while-away');
  const rewatch = fake.requests.filter((r) => r.verb === 'watch')[1];
  t.match(rewatch?.path, /resourceVersion=\d+/, 'the informer resumed from its resourceVersion');
  t.ok(fake.counts().byVerb.list > listsBefore, 'the informer listed again');
  t.same([...seen].sort(), ['first', 'while-away']);
  t.same(errors, [], 'the informer never gave up');
  await informer.stop();
});

t.test('RBAC: a service account without the verb gets the API server 403', async (t) => {
  const { objects } = await setup(t, (fake) =>
    fake.addServiceAccount({ namespace: 'wharf', name: 'control-plane', rules: [{ apiGroups: ['wharf.dev'], resources: ['workflowapps'], verbs: ['get', 'list', 'watch', 'patch'], namespaces: ['tenant-a'] }] }),
  );
  const denied = await failure(objects.create(app('hello')));
  t.equal(denied.code, 403);
  t.same(denied.status, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'workflowapps.wharf.dev is forbidden: User "system:serviceaccount:wharf:control-plane" cannot create resource "workflowapps" in API group "wharf.dev" in the namespace "default"',
    reason: 'Forbidden',
    details: { group: 'wharf.dev', kind: 'workflowapps', name: '' },
    code: 403,
  });
});

t.test('CRD validation: an invalid WorkflowApp is a 422 with a cause per field', async (t) => {
  const { fake, objects } = await setup(t);
  const bad = app('bad', { replicas: 'two', env: [{ name: 'TOKEN', value: 'x', secretRef: { name: 's', key: 'k' } }] });
  delete bad.spec.app;
  const invalid = await failure(objects.create(bad));
  t.equal(invalid.code, 422);
  t.match(invalid.status, { kind: 'Status', reason: 'Invalid', code: 422, details: { name: 'bad', group: 'wharf.dev', kind: 'WorkflowApp' } });
  t.match(invalid.status.message, /^WorkflowApp\.wharf\.dev "bad" is invalid: \[/);
  const causes = invalid.status.details.causes as { reason: string; field: string; message: string }[];
  t.same(
    causes.map((c) => [c.reason, c.field]).sort(),
    [
      ['FieldValueInvalid', 'spec.env[0]'],
      ['FieldValueRequired', 'spec.app'],
      ['FieldValueTypeInvalid', 'spec.replicas'],
    ],
  );
  t.equal(causes.find((c) => c.field === 'spec.replicas')!.message, 'Invalid value: "string": spec.replicas in body must be of type integer: "string"');
  t.equal(causes.find((c) => c.field === 'spec.app')!.message, 'Required value');
  t.notOk(fake.get('wharf.dev/v1alpha1', 'WorkflowApp', 'default', 'bad'));
});
