/**
 * The operator's informers of the children it owns (label `app.kubernetes.io/managed-by=wharf-operator`, every
 * namespace): Deployments, Services, ConfigMaps (kept without their data: a hash of it), PersistentVolumeClaims and
 * the route kind the settings use. A change to any child wakes the reconcile of its WorkflowApp.
 */
import type { TargetLog } from '@wharf/contracts';
import { contentHash } from '../kubernetes/canonical.js';
import { createInformer, type Informer, withoutManagedFields } from '../kubernetes/informer.js';
import type { KubeApi } from '../kubernetes/kube-api.js';
import { LABELS, MANAGED_BY } from '../kubernetes/labels.js';
import { KINDS, type KindInfo, type KubeObject } from '../kubernetes/resources.js';

export type CachedObject = KubeObject & { metadata: KubeObject['metadata'] & { name: string } };

export interface ChildCaches {
  deployments: Informer<CachedObject>;
  services: Informer<CachedObject>;
  configMaps: Informer<CachedObject>;
  volumeClaims: Informer<CachedObject>;
  /** Ingresses or HTTPRoutes (the setting); null when routes are off. */
  routes: Informer<CachedObject> | null;
  all: Informer<CachedObject>[];
}

/** ConfigMaps are immutable and named by digest: the cache keeps a hash of the data, not the files. */
export const cachedConfigMap = (obj: KubeObject): CachedObject => {
  const { data, binaryData, ...rest } = withoutManagedFields(obj) as KubeObject & { data?: unknown; binaryData?: unknown };
  return { ...rest, dataHash: contentHash({ data: data ?? {}, binaryData: binaryData ?? {} }) } as CachedObject;
};

export function createChildCaches(options: {
  api: KubeApi;
  route: 'ingress' | 'httproute' | 'none';
  log: TargetLog;
  onChange: (owner: { namespace: string; name: string }) => void;
}): ChildCaches {
  const labelSelector = `${LABELS.managedBy}=${MANAGED_BY.operator}`;
  const make = (kind: KindInfo, transform?: (o: KubeObject) => CachedObject) =>
    createInformer<CachedObject>({
      api: options.api,
      kind,
      labelSelector,
      ...(transform ? { transform } : {}),
      log: options.log,
      onChange: (_type, obj) => {
        const owner = obj.metadata.labels?.[LABELS.workflowApp];
        if (owner && obj.metadata.namespace) options.onChange({ namespace: obj.metadata.namespace, name: owner });
      },
    });
  const deployments = make(KINDS.Deployment);
  const services = make(KINDS.Service);
  const configMaps = make(KINDS.ConfigMap, cachedConfigMap);
  const volumeClaims = make(KINDS.PersistentVolumeClaim);
  const routes = options.route === 'ingress' ? make(KINDS.Ingress) : options.route === 'httproute' ? make(KINDS.HTTPRoute) : null;
  return { deployments, services, configMaps, volumeClaims, routes, all: [deployments, services, configMaps, volumeClaims, ...(routes ? [routes] : [])] };
}
