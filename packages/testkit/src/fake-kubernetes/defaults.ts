/**
 * The defaults kube-apiserver fills in on write for the built-in kinds an operator creates. An operator that
 * compares what it applied with what it reads back must ignore these (or own them), as against a real cluster.
 */
import { isPlainObject, type KubeObject } from './objects.js';
import type { ResourceType } from './resource-types.js';

type Obj = Record<string, unknown>;
const objectAt = (o: Obj, key: string): Obj => (isPlainObject(o[key]) ? (o[key] as Obj) : ((o[key] = {}), o[key] as Obj));

function defaultContainers(podSpec: Obj): void {
  for (const list of ['containers', 'initContainers']) {
    for (const c of (Array.isArray(podSpec[list]) ? podSpec[list] : []) as Obj[]) {
      if (!isPlainObject(c)) continue;
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      const image = String(c.image ?? '');
      c.imagePullPolicy ??= image.endsWith(':latest') || !/:[^/]+$/.test(image) ? 'Always' : 'IfNotPresent';
      for (const p of (Array.isArray(c.ports) ? c.ports : []) as Obj[]) if (isPlainObject(p)) p.protocol ??= 'TCP';
    }
  }
  podSpec.restartPolicy ??= 'Always';
  podSpec.terminationGracePeriodSeconds ??= 30;
  podSpec.dnsPolicy ??= 'ClusterFirst';
  podSpec.schedulerName ??= 'default-scheduler';
  podSpec.securityContext ??= {};
}

/** Fills in defaults on `obj` in place. `nextClusterIP` hands out Service addresses. */
export function applyDefaults(obj: KubeObject, type: ResourceType, nextClusterIP: () => string): void {
  if (type.crdName) return;
  const o = obj as Obj;
  switch (type.kind) {
    case 'Namespace': {
      const meta = objectAt(o, 'metadata');
      const labels = objectAt(meta, 'labels');
      labels['kubernetes.io/metadata.name'] = meta.name;
      const spec = objectAt(o, 'spec');
      spec.finalizers ??= ['kubernetes'];
      const status = objectAt(o, 'status');
      status.phase ??= 'Active';
      break;
    }
    case 'Secret':
      o.type ??= 'Opaque';
      break;
    case 'Service': {
      const spec = objectAt(o, 'spec');
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      if (spec.type !== 'ExternalName') {
        spec.clusterIP ??= nextClusterIP();
        spec.clusterIPs ??= [spec.clusterIP];
        spec.ipFamilies ??= ['IPv4'];
        spec.ipFamilyPolicy ??= 'SingleStack';
        spec.internalTrafficPolicy ??= 'Cluster';
      }
      for (const p of (Array.isArray(spec.ports) ? spec.ports : []) as Obj[]) {
        if (!isPlainObject(p)) continue;
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      objectAt(objectAt(o, 'status'), 'loadBalancer');
      break;
    }
    case 'Deployment': {
      const spec = objectAt(o, 'spec');
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
      const template = objectAt(spec, 'template');
      defaultContainers(objectAt(template, 'spec'));
      break;
    }
    case 'PersistentVolumeClaim': {
      const spec = objectAt(o, 'spec');
      spec.volumeMode ??= 'Filesystem';
      const status = objectAt(o, 'status');
      status.phase ??= 'Pending';
      break;
    }
    case 'Ingress':
      objectAt(objectAt(o, 'status'), 'loadBalancer');
      break;
    default:
      break;
  }
}

/** Kinds whose metadata.generation the API server tracks (spec changes bump it; metadata and status do not). */
export const tracksGeneration = (type: ResourceType): boolean =>
  Boolean(type.crdName) || ['Deployment', 'CustomResourceDefinition', 'Ingress'].includes(type.kind);
