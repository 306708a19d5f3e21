/**
 * The fake refuses what kube-apiserver refuses, with its Status bodies, and its test controls (garbage
 * collection, namespaces, the deployment controller's part, faults, request counts) behave as a cluster would.
 */
import t, { type Test } from 'tap';
import { startFakeKubernetes, type FakeKubernetesOptions } from '../src/fake-kubernetes/index.js';
import { applyYaml, json, raw } from './helpers/kube-http.js';

const CM = '/api/v1/namespaces/default/configmaps';

async function setup(t: Test, options: FakeKubernetesOptions = {}) {
  const fake = await startFakeKubernetes(options);
  t.teardown(() => fake.close());
  return fake;
}

const configMap = (name: string, data: Record<string, string> = { a: 'b' }, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', ...extra },
  data,
});

t.test('unknown paths, methods, media types, bodies and parameters fail loudly, as the API server answers', async (t) => {
  const fake = await setup(t);
  const text = await raw(fake, 'GET', '/nothing/here');
  t.equal(text.status, 404);
  t.equal(text.text, '404 page not found\n');

  const unknownGroup = await raw(fake, 'GET', '/apis/example.com/v1/widgets');
  t.equal(unknownGroup.status, 404);
  t.match(unknownGroup.json(), { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' });

  const unauthenticated = await raw(fake, 'GET', CM, { token: null });
  t.equal(unauthenticated.status, 401);
  t.match(unauthenticated.json(), { reason: 'Unauthorized', message: 'Unauthorized' });

  const wrongType = await raw(fake, 'PATCH', `${CM}/x`, { body: '{}', contentType: 'text/plain' });
  t.equal(wrongType.status, 415);
  t.match(wrongType.json().message, 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml');

  const malformed = await raw(fake, 'POST', CM, { body: '{"apiVersion": "v1", kind', contentType: 'application/json' });
  t.equal(malformed.status, 400);
  t.equal(malformed.json().reason, 'BadRequest');

  const wrongKind = await json(fake, 'POST', CM, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } });
  t.equal(wrongKind.status, 400);

  const unsupported = await raw(fake, 'GET', `${CM}?includeUninitialized=true`);
  t.equal(unsupported.status, 400);
  t.match(unsupported.json().message, 'query parameter "includeUninitialized" is not supported for list');
  t.match(fake.problems, [/includeUninitialized/]);

  const protobufOnly = await raw(fake, 'GET', CM, { accept: 'application/vnd.kubernetes.protobuf' });
  t.equal(protobufOnly.status, 406);

  const tooBig = await raw(fake, 'POST', CM, { body: JSON.stringify(configMap('big', { a: 'x'.repeat(3 * 1024 * 1024) })), contentType: 'application/json' });
  t.equal(tooBig.status, 413);
  t.equal(tooBig.json().reason, 'RequestEntityTooLarge');

  const noManager = await raw(fake, 'PATCH', `${CM}/x`, { body: JSON.stringify(configMap('x')), contentType: 'application/apply-patch+yaml' });
  t.equal(noManager.status, 422);
  t.match(noManager.json().message, 'fieldManager: Required value: is required for apply patch');

  const forceOnMerge = await raw(fake, 'PATCH', `${CM}/x?force=true`, { body: '{}', contentType: 'application/merge-patch+json' });
  t.equal(forceOnMerge.status, 422);
  t.match(forceOnMerge.json().message, 'force: Forbidden: may not be specified for non-apply patch');
});

t.test('objects are validated against their schemas and the API server rules', async (t) => {
  const fake = await setup(t);
  const badName = await json(fake, 'POST', CM, configMap('Hello_World'));
  t.equal(badName.status, 422);
  t.match(badName.json(), { reason: 'Invalid', details: { causes: [{ reason: 'FieldValueInvalid', field: 'metadata.name' }] } });
  t.match(badName.json().message, /^ConfigMap "Hello_World" is invalid: metadata.name: Invalid value: "Hello_World": a lowercase RFC 1123 subdomain/);

  const longLabel = await json(fake, 'POST', CM, configMap('digest', {}, { labels: { 'wharf.dev/digest': 'a'.repeat(64) } }));
  t.equal(longLabel.status, 422, 'a sha256 hex digest does not fit in a label value');
  t.match(longLabel.json().message, 'must be no more than 63 characters');

  const wrongType = await json(fake, 'POST', CM, { ...configMap('typed'), data: { replicas: 3 } });
  t.equal(wrongType.status, 400);
  t.match(wrongType.json().message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: data.replicas: must be of type string, got integer');

  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ image: 'runtime:1' }] } } },
  };
  const badDeployment = await json(fake, 'POST', '/apis/apps/v1/namespaces/default/deployments', deployment);
  t.equal(badDeployment.status, 422);
  const fields = (badDeployment.json().details.causes as { field: string }[]).map((c) => c.field).sort();
  t.same(fields, ['spec.template.metadata.labels', 'spec.template.spec.containers[0].name']);

  const immutable = await json(fake, 'POST', CM, { ...configMap('config-abc123'), immutable: true });
  t.equal(immutable.status, 201);
  const changed = await json(fake, 'PUT', `${CM}/config-abc123`, { ...configMap('config-abc123', { a: 'changed' }), immutable: true });
  t.equal(changed.status, 422);
  t.match(changed.json().message, 'data: Forbidden: field is immutable when `immutable` is set');

  const missingNamespace = await json(fake, 'POST', '/api/v1/namespaces/nowhere/configmaps', { ...configMap('x'), metadata: { name: 'x' } });
  t.equal(missingNamespace.status, 404);
  t.equal(missingNamespace.json().message, 'namespaces "nowhere" not found');

  const exists = await json(fake, 'POST', CM, { ...configMap('config-abc123'), immutable: true });
  t.equal(exists.status, 409);
  t.match(exists.json(), { reason: 'AlreadyExists', message: 'configmaps "config-abc123" already exists' });

  const typo = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'typo', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'runtime', imagee: 'runtime:1' }] } } },
  };
  const unknownSsa = await applyYaml(fake, '/apis/apps/v1/namespaces/default/deployments/typo', typo, 'wharf-operator');
  t.equal(unknownSsa.status, 500, 'kube-apiserver 1.31 answers an undeclared field in an apply with a bare 500');
  t.equal(unknownSsa.json().message, 'failed to create typed patch object (default/typo; apps/v1, Kind=Deployment): .spec.template.spec.containers[0].imagee: field not declared in schema');
  const strict = await json(fake, 'POST', '/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict', typo);
  t.equal(strict.status, 400);
  t.match(strict.json().message, 'strict decoding error: unknown field "spec.template.spec.containers[0].imagee"');
  const warned = await json(fake, 'POST', '/apis/apps/v1/namespaces/default/deployments', { ...typo, spec: { ...typo.spec, template: { ...typo.spec.template, spec: { containers: [{ name: 'runtime', image: 'runtime:1', colour: 'red' }] } } } });
  t.equal(warned.status, 201, 'without fieldValidation the server warns and drops the field');
  t.equal(warned.headers.warning, '299 - "unknown field \\"spec.template.spec.containers[0].colour\\""');
  t.notOk('colour' in warned.json().spec.template.spec.containers[0]);
});

t.test('defaults are filled in as the API server fills them, and a re-apply of the same config is a no-op', async (t) => {
  const fake = await setup(t);
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };
  const first = await applyYaml(fake, '/api/v1/namespaces/default/services/web', svc, 'wharf-operator');
  t.equal(first.status, 200);
  const spec = first.json().spec;
  t.match(spec, { type: 'ClusterIP', sessionAffinity: 'None', clusterIP: /^10\.96\./, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] });
  const second = await applyYaml(fake, '/api/v1/namespaces/default/services/web', svc, 'wharf-operator');
  t.equal(second.json().metadata.resourceVersion, first.json().metadata.resourceVersion, 'nothing changed, nothing written');
  t.same(second.json().spec.clusterIP, spec.clusterIP);
});

t.test('garbage collection: background deletes dependents, orphan keeps them, a wrong owner uid counts as gone', async (t) => {
  const fake = await setup(t);
  const owner = (await json(fake, 'POST', CM, configMap('owner'))).json();
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid };
  await json(fake, 'POST', CM, configMap('child', {}, { ownerReferences: [ref] }));
  await json(fake, 'POST', CM, configMap('stray', {}, { ownerReferences: [{ ...ref, uid: '00000000-0000-0000-0000-000000000000' }] }));
  await fake.settle();
  t.notOk(fake.get('v1', 'ConfigMap', 'default', 'stray'), 'an owner reference to a uid that does not exist gets the dependent collected');
  const deleted = await json(fake, 'DELETE', `${CM}/owner`);
  t.equal(deleted.status, 200);
  t.match(deleted.json(), { kind: 'Status', status: 'Success', details: { name: 'owner', kind: 'configmaps', uid: owner.metadata.uid } });
  await fake.settle();
  t.notOk(fake.get('v1', 'ConfigMap', 'default', 'child'));

  const owner2 = (await json(fake, 'POST', CM, configMap('owner2'))).json();
  await json(fake, 'POST', CM, configMap('kept', {}, { ownerReferences: [{ ...ref, name: 'owner2', uid: owner2.metadata.uid }] }));
  await json(fake, 'DELETE', `${CM}/owner2`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' });
  await fake.settle();
  t.notOk(fake.get('v1', 'ConfigMap', 'default', 'owner2'));
  t.same(fake.get('v1', 'ConfigMap', 'default', 'kept')?.metadata.ownerReferences, undefined, 'orphaned: the reference is removed, the object kept');
});

t.test('deleting a namespace empties it, and nothing new may be created there meanwhile', async (t) => {
  const fake = await setup(t);
  await json(fake, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant-a' } });
  await json(fake, 'POST', '/api/v1/namespaces/tenant-a/configmaps', { ...configMap('x'), metadata: { name: 'x', finalizers: ['test/hold'] } });
  const del = await json(fake, 'DELETE', '/api/v1/namespaces/tenant-a');
  t.equal(del.status, 200);
  t.equal(del.json().status.phase, 'Terminating');
  await fake.settle();
  const refused = await json(fake, 'POST', '/api/v1/namespaces/tenant-a/configmaps', { ...configMap('y'), metadata: { name: 'y' } });
  t.equal(refused.status, 403);
  t.match(refused.json().message, 'unable to create new content in namespace tenant-a because it is being terminated');
  t.ok(fake.get('v1', 'Namespace', undefined, 'tenant-a'), 'held by the ConfigMap finalizer');
  await raw(fake, 'PATCH', '/api/v1/namespaces/tenant-a/configmaps/x', { body: '{"metadata":{"finalizers":null}}', contentType: 'application/merge-patch+json' });
  while (fake.get('v1', 'Namespace', undefined, 'tenant-a')) await new Promise((r) => setTimeout(r, 20));
  t.notOk(fake.get('v1', 'ConfigMap', 'tenant-a', 'x'));
});

t.test('a Deployment progresses until the test marks it available; deleteObject removes it as another actor would', async (t) => {
  const fake = await setup(t);
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'runtime', image: 'runtime:1' }] } } },
  };
  await applyYaml(fake, '/apis/apps/v1/namespaces/default/deployments/web', deployment, 'wharf-operator');
  await fake.settle();
  const progressing = fake.get('apps/v1', 'Deployment', 'default', 'web')!;
  t.match(progressing.status, { observedGeneration: 1, replicas: 2, unavailableReplicas: 2, conditions: [{ type: 'Available', status: 'False' }, { type: 'Progressing', status: 'True' }] });
  t.match((progressing.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers, [{ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' }]);

  const available = fake.markDeploymentAvailable('default', 'web');
  t.match(available.status, { readyReplicas: 2, availableReplicas: 2, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }] });

  fake.deleteObject('apps/v1', 'Deployment', 'default', 'web');
  await fake.settle();
  t.notOk(fake.get('apps/v1', 'Deployment', 'default', 'web'));
});

t.test('faults: 5xx, reset connections, an unreachable server; and request counts per verb', async (t) => {
  const fake = await setup(t);
  const start = Date.now();
  fake.inject({ verb: 'create', resource: 'configmaps', fault: { kind: 'status', code: 500 } });
  const failed = await json(fake, 'POST', CM, configMap('x'));
  t.equal(failed.status, 500);
  t.equal(failed.json().reason, 'InternalError');
  t.equal((await json(fake, 'POST', CM, configMap('x'))).status, 201, 'the fault was for one request');

  fake.inject({ verb: 'get', fault: { kind: 'status', code: 429, retryAfterSeconds: 2 } });
  const limited = await json(fake, 'GET', `${CM}/x`);
  t.equal(limited.status, 429);
  t.equal(limited.headers['retry-after'], '2');

  fake.inject({ verb: 'get', fault: { kind: 'reset' } });
  await t.rejects(json(fake, 'GET', `${CM}/x`), { code: 'ECONNRESET' });

  await fake.pause();
  await t.rejects(json(fake, 'GET', `${CM}/x`), { code: 'ECONNREFUSED' });
  await fake.resume();
  t.equal((await json(fake, 'GET', `${CM}/x`)).status, 200);

  const counts = fake.counts(start);
  t.equal(counts.byVerb.create, 2);
  t.equal(counts.byVerb.get, 3, 'the refused connection never reached the server');
  t.equal(counts.writes, 2);
  t.same(counts.byResource['/configmaps'], { create: 2, get: 3 });
});
