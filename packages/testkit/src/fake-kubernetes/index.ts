export * from './fake-kubernetes.js';
export type { ServiceAccountSpec, PolicyRule, Verb } from './rbac.js';
export type { StatusBody, StatusCause, StatusReason } from './status.js';
export type { KubeObject, StoredObject, ManagedFieldsEntry, OwnerReference } from './objects.js';
export * from '../kube-tools.js';
