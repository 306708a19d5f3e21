/**
 * The kinds Wharf reads and writes, with what a URL needs (group, version, plural, scope), and the paths of their
 * objects. A fixed table instead of discovery: Wharf only ever touches these, and the chart's RBAC names the same.
 */
import { WHARF_API_GROUP } from '@wharf/contracts';

export interface KindInfo {
  apiVersion: string;
  kind: string;
  group: string;
  plural: string;
  namespaced: boolean;
}

const kind = (apiVersion: string, kind: string, plural: string, namespaced = true): KindInfo => ({
  apiVersion,
  kind,
  group: apiVersion.includes('/') ? apiVersion.split('/')[0]! : '',
  plural,
  namespaced,
});

export const KINDS = {
  WorkflowApp: kind(`${WHARF_API_GROUP}/v1alpha1`, 'WorkflowApp', 'workflowapps'),
  Namespace: kind('v1', 'Namespace', 'namespaces', false),
  ResourceQuota: kind('v1', 'ResourceQuota', 'resourcequotas'),
  LimitRange: kind('v1', 'LimitRange', 'limitranges'),
  ConfigMap: kind('v1', 'ConfigMap', 'configmaps'),
  Service: kind('v1', 'Service', 'services'),
  PersistentVolumeClaim: kind('v1', 'PersistentVolumeClaim', 'persistentvolumeclaims'),
  Event: kind('v1', 'Event', 'events'),
  Deployment: kind('apps/v1', 'Deployment', 'deployments'),
  Ingress: kind('networking.k8s.io/v1', 'Ingress', 'ingresses'),
  HTTPRoute: kind('gateway.networking.k8s.io/v1', 'HTTPRoute', 'httproutes'),
  Lease: kind('coordination.k8s.io/v1', 'Lease', 'leases'),
} as const satisfies Record<string, KindInfo>;
export type KindName = keyof typeof KINDS;

/** `workflowapps.wharf.dev`, `configmaps`: how the API server names a resource in messages and RBAC. */
export const resourceName = (k: KindInfo) => (k.group ? `${k.plural}.${k.group}` : k.plural);

/** The collection path (`/apis/apps/v1/namespaces/x/deployments`), or every namespace's when `namespace` is undefined. */
export function collectionPath(k: KindInfo, namespace?: string): string {
  const root = k.group ? `/apis/${k.apiVersion}` : `/api/${k.apiVersion}`;
  return k.namespaced && namespace !== undefined ? `${root}/namespaces/${encodeURIComponent(namespace)}/${k.plural}` : `${root}/${k.plural}`;
}

export const objectPath = (k: KindInfo, namespace: string | undefined, name: string, subresource?: string) =>
  `${collectionPath(k, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;

/** The part of an object every kind has. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  finalizers?: string[];
  creationTimestamp?: string;
  managedFields?: unknown[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}
