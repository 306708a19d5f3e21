/**
 * Discovery as kube-apiserver 1.31 serves it to clients that ask for the classic documents: /api, /apis,
 * /apis/<group>, the APIResourceList of each group version, /version, and the OpenAPI v3 index and group-version
 * documents that kubectl reads to learn that PATCH takes `fieldValidation` (so that it validates on the server).
 */
import { createHash } from 'node:crypto';
import { apiVersionOf, type ResourceType } from './resource-types.js';
import type { TypeRegistry } from './type-registry.js';

export const KUBERNETES_VERSION = { major: '1', minor: '31', gitVersion: 'v1.31.9' } as const;

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function versionInfo() {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-05-15T00:00:00Z',
    goVersion: 'go1.23.8',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export const apiVersions = (serverAddress: string) => ({
  kind: 'APIVersions',
  versions: ['v1'],
  serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
});

function groupsOf(types: TypeRegistry) {
  const groups = new Map<string, string[]>();
  for (const gv of types.groupVersions()) {
    if (!gv.group) continue;
    groups.set(gv.group, [...(groups.get(gv.group) ?? []), gv.version]);
  }
  return [...groups].map(([name, versions]) => ({
    name,
    versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
    preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
  }));
}

export const apiGroupList = (types: TypeRegistry) => ({ kind: 'APIGroupList', apiVersion: 'v1', groups: groupsOf(types) });

export function apiGroup(types: TypeRegistry, group: string) {
  const g = groupsOf(types).find((x) => x.name === group);
  return g && { kind: 'APIGroup', apiVersion: 'v1', ...g };
}

const storageVersionHash = (t: ResourceType) => createHash('sha256').update(`${apiVersionOf(t)}/${t.kind}`).digest('base64').slice(0, 11);

export function apiResourceList(types: TypeRegistry, group: string, version: string) {
  const gv = types.groupVersions().find((x) => x.group === group && x.version === version);
  if (!gv) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const t of gv.types) {
    resources.push({
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: VERBS,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length ? { categories: t.categories } : {}),
      storageVersionHash: storageVersionHash(t),
    });
    if (t.statusSubresource) resources.push({ name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(gv), resources };
}

const PATCH_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({ name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string' }, uniqueItems: true }));

/** The OpenAPI v3 document of one group version: item paths with their PATCH operation, and the kinds' schemas. */
export function openApiV3Document(types: TypeRegistry, group: string, version: string, crdSchemas: Map<string, unknown>) {
  const gv = types.groupVersions().find((x) => x.group === group && x.version === version);
  if (!gv) return undefined;
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of gv.types) {
    const gvk = { group, version, kind: t.kind };
    const item = t.namespaced ? `${prefix}/namespaces/{namespace}/${t.plural}/{name}` : `${prefix}/${t.plural}/{name}`;
    const op = (action: string) => ({ 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, parameters: action === 'patch' ? PATCH_PARAMETERS : [], responses: { '200': { description: 'OK' } } });
    paths[item] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
    const schemaName = `${group ? group.split('.').reverse().join('.') : 'io.k8s.api.core'}.${version}.${t.kind}`;
    schemas[schemaName] = { ...((crdSchemas.get(`${apiVersionOf(t)}/${t.kind}`) as object | undefined) ?? { type: 'object' }), 'x-kubernetes-group-version-kind': [gvk] };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: KUBERNETES_VERSION.gitVersion }, paths, components: { schemas } };
}

export function openApiV3Index(types: TypeRegistry, crdSchemas: Map<string, unknown>) {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of types.groupVersions()) {
    const key = gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
    const doc = openApiV3Document(types, gv.group, gv.version, crdSchemas);
    const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase().slice(0, 128);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths };
}
