/**
 * Label and annotation keys, and field manager names, that the kubernetes target and the operator share (and the
 * chart's RBAC and docs name). Label values stay within 63 characters: digests go in annotations, a short form in
 * a label.
 */

/** Server-side apply field managers: the control plane owns WorkflowApps, the operator owns their children. */
export const FIELD_MANAGERS = { controlPlane: 'wharf', operator: 'wharf-operator' } as const;

export const MANAGED_BY = { controlPlane: 'wharf', operator: 'wharf-operator' } as const;

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  partOf: 'app.kubernetes.io/part-of',
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  tenant: 'wharf.dev/tenant',
  plan: 'wharf.dev/plan',
  app: 'wharf.dev/app',
  environment: 'wharf.dev/environment',
  environmentId: 'wharf.dev/environment-id',
  environmentKind: 'wharf.dev/environment-kind',
  /** On children: the WorkflowApp they belong to (also the Deployment's selector). */
  workflowApp: 'wharf.dev/workflowapp',
  /** First 12 hex characters of the digest (a full sha256 does not fit a label value). */
  digest: 'wharf.dev/digest',
} as const;

export const ANNOTATIONS = {
  /** On a WorkflowApp: the Wharf generation (environments.generation) it was applied for. */
  generation: 'wharf.dev/generation',
  /** On a WorkflowApp: SHA-256 of the spec Wharf applied; a live spec with another hash was edited by hand. */
  specHash: 'wharf.dev/spec-hash',
  /** On a WorkflowApp: the URL its Ingress or HTTPRoute serves (the control plane chooses it); none: no route. */
  url: 'wharf.dev/url',
  ingressClass: 'wharf.dev/ingress-class',
  /** The full digest (pod template, ConfigMap). */
  digest: 'wharf.dev/digest',
  /** On a WorkflowApp: `correct` (default) or `warn`: what the operator does when a child drifts. */
  driftMode: 'wharf.dev/drift-mode',
} as const;

/** `sha256:abcdef…` → `abcdef123456`: fits a label value and a name suffix. */
export const shortDigest = (digest: string, length = 12) => digest.replace(/^[a-z0-9]+:/, '').replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, length) || 'none';
