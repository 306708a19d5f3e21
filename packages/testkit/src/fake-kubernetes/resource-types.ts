/**
 * The kinds the fake serves: the built-in ones an operator of Wharf needs, each with its discovery data, its
 * schema check (kubernetes-models, generated from the Kubernetes OpenAPI) and the list semantics server-side apply
 * uses; and any CustomResourceDefinition created at run time (see crd-types.ts).
 */
import type { ErrorObject } from 'ajv';
import { ConfigMap, Event, LimitRange, Namespace, PersistentVolumeClaim, ResourceQuota, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import type { KubeObject } from './objects.js';
import { MODEL_OF_KIND, walkBuiltin, type ModelIndex } from './builtin-fields.js';

/** How server-side apply treats a list: replaced whole, merged as a set of scalars, or merged by key fields. */
export type ListType = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: string[] };

/** A problem found by a schema: `decode` ones are answered 400 (the body cannot be decoded), the rest 422. */
export interface SchemaProblem {
  field: string;
  kind: 'required' | 'type' | 'enum' | 'invalid' | 'unknown';
  message: string;
  value?: unknown;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  statusSubresource: boolean;
  /** Name rule of metadata.name. */
  nameRule: 'subdomain' | 'label' | 'dns1035' | 'crd';
  /** Checks the whole object against the kind's schema. */
  schemaProblems(obj: KubeObject): SchemaProblem[];
  /** Fields not declared in the schema (empty when the schema cannot tell: see README). */
  unknownFields(obj: KubeObject): string[];
  /** Drops fields the schema does not declare (what the server does when field validation is not Strict). */
  prune(obj: KubeObject): void;
  /** The list semantics at a path of field names (list indices and keys left out), e.g. ['spec','template','spec','containers']. */
  listType(path: readonly string[]): ListType;
  printerColumns: PrinterColumn[];
  /** Set for custom resources: the CRD that defines them. */
  crdName?: string;
}

export const apiVersionOf = (t: Pick<ResourceType, 'group' | 'version'>) => (t.group ? `${t.group}/${t.version}` : t.version);

const ATOMIC: ListType = { type: 'atomic' };

/** List semantics of built-in kinds, from the `x-kubernetes-list-type` / `-map-keys` markers of Kubernetes 1.31. */
const METADATA_LISTS: Record<string, ListType> = {
  ownerReferences: { type: 'map', keys: ['uid'] },
  finalizers: { type: 'set' },
};
const CONTAINER_LISTS: Record<string, ListType> = {
  ports: { type: 'map', keys: ['containerPort', 'protocol'] },
  env: { type: 'map', keys: ['name'] },
  volumeMounts: { type: 'map', keys: ['mountPath'] },
  volumeDevices: { type: 'map', keys: ['devicePath'] },
};
const POD_SPEC_LISTS: Record<string, ListType> = {
  containers: { type: 'map', keys: ['name'] },
  initContainers: { type: 'map', keys: ['name'] },
  ephemeralContainers: { type: 'map', keys: ['name'] },
  volumes: { type: 'map', keys: ['name'] },
  imagePullSecrets: { type: 'map', keys: ['name'] },
  hostAliases: { type: 'map', keys: ['ip'] },
  topologySpreadConstraints: { type: 'map', keys: ['topologyKey', 'whenUnsatisfiable'] },
  schedulingGates: { type: 'map', keys: ['name'] },
  resourceClaims: { type: 'map', keys: ['name'] },
};
const CONDITIONS: ListType = { type: 'map', keys: ['type'] };

function builtinListType(kind: string, path: readonly string[]): ListType {
  const last = path[path.length - 1]!;
  const parent = path.slice(0, -1).join('.');
  if ((parent === 'metadata' || parent.endsWith('template.metadata')) && METADATA_LISTS[last]) return METADATA_LISTS[last];
  if (parent === 'status' && last === 'conditions') return CONDITIONS;
  if (kind === 'Deployment') {
    if (parent === 'spec.template.spec' && POD_SPEC_LISTS[last]) return POD_SPEC_LISTS[last];
    if (/^spec\.template\.spec\.(containers|initContainers|ephemeralContainers)$/.test(parent) && CONTAINER_LISTS[last]) return CONTAINER_LISTS[last];
  }
  if (kind === 'Service' && parent === 'spec' && last === 'ports') return { type: 'map', keys: ['port', 'protocol'] };
  if (kind === 'Service' && parent === 'status.loadBalancer' && last === 'ingress') return ATOMIC;
  return ATOMIC;
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

/** kubernetes-models throws its ajv errors; turn them into the fake's problems. */
function modelProblems(model: ModelClass, obj: KubeObject): SchemaProblem[] {
  try {
    new model(obj as never).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: ErrorObject[] }).errors;
    if (!errors) throw err;
    return errors.map((e) => ajvProblem(e, obj));
  }
}

/** `/spec/env/0/name` → `spec.env[0].name`, the way Kubernetes prints field paths. */
export function pointerToField(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out ? `.${seg}` : seg;
  }
  return out;
}

export function valueAtPointer(obj: unknown, pointer: string): unknown {
  let cur: unknown = obj;
  for (const raw of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

export function ajvProblem(e: ErrorObject, obj: unknown): SchemaProblem {
  const field = pointerToField(e.instancePath);
  const value = valueAtPointer(obj, e.instancePath);
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return { field: field ? `${field}.${missing}` : missing, kind: 'required', message: 'Required value' };
  }
  if (e.keyword === 'type') return { field, kind: 'type', message: `must be of type ${(e.params as { type: string }).type}`, value };
  if (e.keyword === 'enum') return { field, kind: 'enum', message: e.message ?? 'unsupported value', value };
  return { field, kind: 'invalid', message: e.message ?? 'is invalid', value };
}

interface BuiltinSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  status: boolean;
  nameRule?: ResourceType['nameRule'];
  model: ModelClass;
}

const BUILTINS: BuiltinSpec[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], status: true, nameRule: 'label', model: Namespace },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'], status: false, model: ConfigMap },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, status: false, model: Secret },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'], status: true, nameRule: 'dns1035', model: Service },
  { group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'], status: true, model: PersistentVolumeClaim },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'], status: false, model: ServiceAccount },
  { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, shortNames: ['quota'], status: true, model: ResourceQuota },
  { group: '', version: 'v1', kind: 'LimitRange', plural: 'limitranges', namespaced: true, shortNames: ['limits'], status: false, model: LimitRange },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'], status: false, model: Event },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, shortNames: ['deploy'], categories: ['all'], status: true, model: Deployment },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', namespaced: true, shortNames: ['ing'], status: true, model: Ingress },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true, status: false, model: Lease },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    status: true,
    nameRule: 'crd',
    model: CustomResourceDefinition,
  },
];

export function builtinResourceTypes(models: ModelIndex): ResourceType[] {
  const walk = (kind: string, obj: KubeObject, onUnknown: (path: string, parent: Record<string, unknown>, key: string) => void) =>
    walkBuiltin(models, MODEL_OF_KIND[kind]!, obj, '', onUnknown);
  return BUILTINS.map((b) => ({
    group: b.group,
    version: b.version,
    kind: b.kind,
    listKind: `${b.kind}List`,
    plural: b.plural,
    singular: b.kind.toLowerCase(),
    namespaced: b.namespaced,
    shortNames: b.shortNames ?? [],
    categories: b.categories ?? [],
    statusSubresource: b.status,
    nameRule: b.nameRule ?? 'subdomain',
    schemaProblems: (obj) => modelProblems(b.model, obj),
    unknownFields: (obj) => {
      const found: string[] = [];
      walk(b.kind, obj, (p) => found.push(p));
      return found;
    },
    prune: (obj) => walk(b.kind, obj, (_p, parent, key) => delete parent[key]),
    listType: (path) => builtinListType(b.kind, path),
    printerColumns: [],
  }));
}
