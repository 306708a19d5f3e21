/**
 * The real kubectl 1.31 (from the npm package, not the machine) against the fake API server: if kubectl can
 * discover, server-side apply, get, wait and delete through it, the fake speaks the real protocol.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ensureKubeTools, kubectlRunner, startFakeKubernetes } from '../src/fake-kubernetes/index.js';

const CRD = path.resolve(import.meta.dirname, '../../../crds/workflowapps.wharf.dev.yaml');

const workflowApp = (name: string, spec: Record<string, unknown> = {}) => `apiVersion: wharf.dev/v1alpha1
kind: WorkflowApp
metadata:
  name: ${name}
  namespace: default
spec: ${JSON.stringify({
  app: 'hello',
  environment: 'production',
  version: { sha: 'abcdef1', digest: 'sha256-1' },
  files: [{ path: 'workflow.yaml', content: 'modules: []\n' }],
  runtime: {},
  replicas: 1,
  env: [],
  ...spec,
})}
`;

async function setup(t: Test) {
  const tools = await ensureKubeTools();
  const fake = await startFakeKubernetes();
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-kubectl-'));
  t.teardown(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });
  /** kubectl as the cluster admin, or as the holder of `token`. */
  const kubectlAs = async (who: string, token?: string) => {
    const kubeconfig = await fake.writeKubeconfig(path.join(dir, `kubeconfig-${who}`), { namespace: 'default', token });
    return kubectlRunner(tools, { kubeconfig, cacheDir: path.join(dir, `cache-${who}`) });
  };
  const file = async (name: string, text: string) => {
    const p = path.join(dir, name);
    await writeFile(p, text);
    return p;
  };
  return { fake, kubectl: await kubectlAs('admin'), kubectlAs, file };
}

t.test('kubectl applies the CRD and a WorkflowApp server-side and reads them back', async (t) => {
  const { fake, kubectl, file } = await setup(t);
  const crd = await kubectl('apply', '--server-side', '-f', CRD);
  t.equal(crd.code, 0, crd.stderr);
  t.match(crd.stdout, 'customresourcedefinition.apiextensions.k8s.io/workflowapps.wharf.dev serverside-applied');

  const applied = await kubectl('apply', '--server-side', '-f', await file('app.yaml', workflowApp('hello')));
  t.equal(applied.code, 0, applied.stderr);
  t.match(applied.stdout, 'workflowapp.wharf.dev/hello serverside-applied');
  const patch = fake.requests.find((r) => r.method === 'PATCH' && r.resource === 'wharf.dev/workflowapps');
  t.equal(patch?.contentType, 'application/apply-patch+yaml');
  t.match(patch?.path, /fieldManager=kubectl&fieldValidation=Strict&force=false/, 'kubectl learned from OpenAPI v3 that the server validates fields');

  const got = await kubectl('get', 'workflowapps', '-o', 'json');
  t.equal(got.code, 0, got.stderr);
  const list = JSON.parse(got.stdout) as { items: { metadata: { name: string; generation: number; uid: string }; spec: { version: { sha: string } } }[] };
  t.equal(list.items.length, 1);
  t.equal(list.items[0]!.metadata.name, 'hello');
  t.equal(list.items[0]!.metadata.generation, 1);
  t.equal(list.items[0]!.spec.version.sha, 'abcdef1');

  const table = await kubectl('get', 'wfa');
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /^NAME\s+APP\s+ENV\s+VERSION\s+READY\s+AGE\n/, 'the CRD printer columns, by short name');
  t.match(table.stdout, /\nhello\s+hello\s+production\s+abcdef1\s+\d+s\n/);

  const managed = await kubectl('get', 'workflowapp', 'hello', '-o', 'json', '--show-managed-fields');
  const entry = (JSON.parse(managed.stdout) as { metadata: { managedFields: { manager: string; operation: string; fieldsV1: Record<string, unknown> }[] } }).metadata.managedFields;
  t.same(entry.map((e) => [e.manager, e.operation]), [['kubectl', 'Apply']]);
  t.ok((entry[0]!.fieldsV1['f:spec'] as Record<string, unknown>)['f:replicas'], 'kubectl owns spec.replicas');

  // Applying the same file again changes nothing: no new resourceVersion, no watch event.
  const before = fake.get('wharf.dev/v1alpha1', 'WorkflowApp', 'default', 'hello')!.metadata.resourceVersion;
  const again = await kubectl('apply', '--server-side', '-f', await file('app.yaml', workflowApp('hello')));
  t.equal(again.code, 0, again.stderr);
  t.equal(fake.get('wharf.dev/v1alpha1', 'WorkflowApp', 'default', 'hello')!.metadata.resourceVersion, before);
  t.same(fake.problems, []);
});

t.test('kubectl wait --for=condition=Ready returns once the status says Ready', async (t) => {
  const { fake, kubectl, file } = await setup(t);
  t.equal((await kubectl('apply', '--server-side', '-f', CRD)).code, 0);
  t.equal((await kubectl('apply', '--server-side', '-f', await file('app.yaml', workflowApp('hello')))).code, 0);

  let finished = false;
  const waiting = kubectl('wait', '--for=condition=Ready', 'workflowapp/hello', '--timeout=60s').then((r) => {
    finished = true;
    return r;
  });
  while (fake.openWatches() === 0) await new Promise((r) => setTimeout(r, 20));
  t.notOk(finished, 'kubectl is still waiting while the WorkflowApp has no Ready condition');
  fake.setStatus('wharf.dev/v1alpha1', 'WorkflowApp', 'default', 'hello', {
    observedGeneration: 1,
    conditions: [{ type: 'Ready', status: 'True', reason: 'Available', message: 'runtime healthy', lastTransitionTime: '2026-01-01T00:00:00Z' }],
  });
  const result = await waiting;
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, 'workflowapp.wharf.dev/hello condition met');
  const watch = fake.requests.find((r) => r.verb === 'watch');
  t.match(watch?.path, /allowWatchBookmarks=true/);
  t.match(watch?.path, /fieldSelector=metadata.name%3Dhello/);

  fake.setStatus('wharf.dev/v1alpha1', 'WorkflowApp', 'default', 'hello', {
    observedGeneration: 1,
    conditions: [{ type: 'Ready', status: 'False', reason: 'Progressing', message: 'rolling out', lastTransitionTime: '2026-01-01T00:00:00Z' }],
  });
  const timeout = await kubectl('wait', '--for=condition=Ready', 'workflowapp/hello', '--timeout=1s');
  t.equal(timeout.code, 1);
  t.match(timeout.stderr, 'timed out waiting for the condition on workflowapps/hello');
});

t.test('kubectl delete --cascade=foreground keeps the owner until its owned ConfigMap is gone', async (t) => {
  const { fake, kubectl, file } = await setup(t);
  t.equal((await kubectl('apply', '--server-side', '-f', CRD)).code, 0);
  t.equal((await kubectl('apply', '--server-side', '-f', await file('app.yaml', workflowApp('hello')))).code, 0);
  const owner = fake.get('wharf.dev/v1alpha1', 'WorkflowApp', 'default', 'hello')!;
  const cm = `apiVersion: v1
kind: ConfigMap
metadata:
  name: hello-config
  namespace: default
  finalizers: [test.wharf.dev/hold]
  ownerReferences:
  - { apiVersion: wharf.dev/v1alpha1, kind: WorkflowApp, name: hello, uid: ${owner.metadata.uid}, controller: true, blockOwnerDeletion: true }
data: { workflow.yaml: "modules: []" }
`;
  const child = await kubectl('apply', '--server-side', '--field-manager=wharf-operator', '-f', await file('cm.yaml', cm));
  t.equal(child.code, 0, child.stderr);

  const del = await kubectl('delete', 'workflowapp/hello', '--cascade=foreground', '--wait=false');
  t.equal(del.code, 0, del.stderr);
  t.match(del.stdout, 'workflowapp.wharf.dev "hello" deleted');
  await fake.settle();
  const pending = JSON.parse((await kubectl('get', 'workflowapp', 'hello', '-o', 'json')).stdout) as { metadata: { deletionTimestamp?: string; finalizers?: string[] } };
  t.ok(pending.metadata.deletionTimestamp, 'the owner is being deleted');
  t.same(pending.metadata.finalizers, ['foregroundDeletion'], 'and waits for its dependents');
  const held = JSON.parse((await kubectl('get', 'configmap', 'hello-config', '-o', 'json')).stdout) as { metadata: { deletionTimestamp?: string } };
  t.ok(held.metadata.deletionTimestamp, 'the garbage collector deleted the ConfigMap, which its finalizer holds');

  const release = await kubectl('patch', 'configmap', 'hello-config', '--type=merge', '-p', '{"metadata":{"finalizers":null}}');
  t.equal(release.code, 0, release.stderr);
  const gone = await kubectl('wait', '--for=delete', 'workflowapp/hello', '--timeout=60s');
  t.equal(gone.code, 0, gone.stderr);
  const missing = await kubectl('get', 'configmap', 'hello-config');
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'Error from server (NotFound): configmaps "hello-config" not found');
});

t.test('kubectl shows the API server errors for an invalid WorkflowApp and an unknown field', async (t) => {
  const { kubectl, file } = await setup(t);
  t.equal((await kubectl('apply', '--server-side', '-f', CRD)).code, 0);
  const invalid = await kubectl('apply', '--server-side', '-f', await file('bad.yaml', workflowApp('bad', { replicas: 500, version: { sha: 'XYZ', digest: '' } })));
  t.equal(invalid.code, 1);
  t.match(invalid.stderr, 'The WorkflowApp "bad" is invalid:');
  t.match(invalid.stderr, 'spec.replicas: Invalid value: 500: spec.replicas in body should be less than or equal to 100');
  t.match(invalid.stderr, `spec.version.sha: Invalid value: "XYZ": spec.version.sha in body should match '^[0-9a-f]{7,64}$'`);
  t.match(invalid.stderr, 'spec.version.digest: Invalid value: "": spec.version.digest in body should be at least 1 chars long');

  const unknown = await kubectl('apply', '--server-side', '-f', await file('typo.yaml', workflowApp('typo', { replica: 2 })));
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, 'failed to create typed patch object (default/typo; wharf.dev/v1alpha1, Kind=WorkflowApp): .spec.replica: field not declared in schema');
});

t.test('kubectl with a service account token gets the API server 403 for a verb its rules lack', async (t) => {
  const { fake, kubectl: admin, kubectlAs, file } = await setup(t);
  t.equal((await admin('apply', '--server-side', '-f', CRD)).code, 0);
  const token = fake.addServiceAccount({
    namespace: 'wharf',
    name: 'reader',
    rules: [{ apiGroups: ['wharf.dev'], resources: ['workflowapps'], verbs: ['get', 'list', 'watch'], namespaces: ['default'] }],
  });
  const kubectl = await kubectlAs('reader', token);
  const denied = await kubectl('apply', '--server-side', '-f', await file('app.yaml', workflowApp('hello')));
  t.equal(denied.code, 1);
  t.match(
    denied.stderr,
    'Error from server (Forbidden): workflowapps.wharf.dev "hello" is forbidden: User "system:serviceaccount:wharf:reader" cannot patch resource "workflowapps" in API group "wharf.dev" in the namespace "default"',
  );
  t.notOk(fake.get('wharf.dev/v1alpha1', 'WorkflowApp', 'default', 'hello'), 'nothing was written');
  const listed = await kubectl('get', 'workflowapps');
  t.equal(listed.code, 0, listed.stderr);
  t.match(listed.stderr, 'No resources found in default namespace.');
  const other = await kubectl('get', 'workflowapps', '-n', 'kube-system');
  t.equal(other.code, 1);
  t.match(other.stderr, 'cannot list resource "workflowapps" in API group "wharf.dev" in the namespace "kube-system"');
});
