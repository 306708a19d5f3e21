/**
 * One namespace per tenant, with labels, Pod Security `restricted`, and a ResourceQuota and LimitRange from the
 * tenant's billing plan (packages/contracts/src/plans.ts). The plan says how many production and preview
 * environments a tenant may run; the namespace gives each of those environments a budget of pods, CPU, memory and
 * storage. A plan without environment limits (enterprise) gets no quota, only the LimitRange's defaults.
 */
import { BILLING_PLANS, type BillingPlanId, isBillingPlanId } from '@wharf/contracts';
import { LABELS, MANAGED_BY } from '../../kubernetes/labels.js';
import type { KubeObject } from '../../kubernetes/resources.js';

/** What one environment may use, times the environments a plan allows. */
export const ENVIRONMENT_BUDGET = {
  /** Replicas plus a rolling update's surge. */
  pods: 4,
  cpuRequestMillis: 1_000,
  memoryRequestMi: 1_024,
  memoryLimitMi: 2_048,
  storageGi: 2,
} as const;

/** Defaults for containers that ask for nothing, and the most one container may ask for. */
export const CONTAINER_LIMITS = {
  defaultRequest: { cpu: '100m', memory: '256Mi' },
  default: { memory: '512Mi' },
  max: { cpu: '2', memory: '4Gi' },
} as const;

export const QUOTA_NAME = 'wharf-plan';
export const LIMIT_RANGE_NAME = 'wharf-defaults';

export const planOf = (plan: string | null | undefined): BillingPlanId => (plan && isBillingPlanId(plan) ? plan : 'free');

/** The ResourceQuota's `hard`, or null when the plan sets no environment limit. */
export function quotaFor(planId: BillingPlanId): Record<string, string> | null {
  const { productionEnvironments, previewEnvironments } = BILLING_PLANS[planId].limits;
  if (productionEnvironments === null || previewEnvironments === null) return null;
  const envs = productionEnvironments + previewEnvironments;
  const b = ENVIRONMENT_BUDGET;
  return {
    'count/workflowapps.wharf.dev': String(envs),
    pods: String(envs * b.pods),
    'requests.cpu': `${envs * b.cpuRequestMillis}m`,
    'requests.memory': `${envs * b.memoryRequestMi}Mi`,
    'limits.memory': `${envs * b.memoryLimitMi}Mi`,
    persistentvolumeclaims: String(envs),
    'requests.storage': `${envs * b.storageGi}Gi`,
  };
}

export interface TenantNamespaceObjects {
  namespace: KubeObject;
  limitRange: KubeObject;
  /** null: the plan has no quota (one left from an earlier plan is deleted). */
  quota: KubeObject | null;
}

export function tenantNamespaceObjects(name: string, tenantId: number, planId: BillingPlanId): TenantNamespaceObjects {
  const labels = { [LABELS.managedBy]: MANAGED_BY.controlPlane, [LABELS.partOf]: 'wharf', [LABELS.tenant]: String(tenantId), [LABELS.plan]: planId };
  const hard = quotaFor(planId);
  return {
    namespace: {
      metadata: {
        name,
        labels: {
          ...labels,
          // Every pod Wharf starts meets the restricted profile; the namespace refuses any that does not.
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    },
    limitRange: {
      metadata: { name: LIMIT_RANGE_NAME, namespace: name, labels },
      spec: { limits: [{ type: 'Container', default: { ...CONTAINER_LIMITS.default }, defaultRequest: { ...CONTAINER_LIMITS.defaultRequest }, max: { ...CONTAINER_LIMITS.max } }] },
    },
    quota: hard ? { metadata: { name: QUOTA_NAME, namespace: name, labels }, spec: { hard } } : null,
  };
}
