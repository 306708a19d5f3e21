/**
 * What the operator makes of one WorkflowApp: an immutable ConfigMap of the workflow files named by digest (a rollout
 * is a new ConfigMap), a Deployment of the runtime, a Service, an Ingress or HTTPRoute when the environment has a
 * URL, and a PersistentVolumeClaim when the app keeps files. Every child is owned by the WorkflowApp (so deleting
 * it deletes them, foreground deletion waiting for them) and labelled for the operator's watches. Pure: tested
 * without a cluster; a WorkflowApp the operator must not run throws StalledError.
 */
import { isReservedRuntimeEnvVar, REASONS, RUNTIME_EXPECT_DIGEST_HEADER, RUNTIME_FLAGS, RUNTIME_HEALTH_PATH, RUNTIME_RESERVED_PREFIX, type WorkflowAppSpec } from '@wharf/contracts';
import { StalledError } from '../../errors.js';
import { ANNOTATIONS, LABELS, MANAGED_BY, shortDigest } from '../../kubernetes/labels.js';
import { configMapName } from '../../kubernetes/names.js';
import { KINDS, type KubeObject, type OwnerReference } from '../../kubernetes/resources.js';
import { usesFileStorage } from './file-storage.js';

/** Header the readiness probe sends: the runtime answers 503 when it serves another digest than this one. */
export const EXPECT_DIGEST_HEADER = RUNTIME_EXPECT_DIGEST_HEADER;

export const RUNTIME_PORT = 8080;
export const CONFIG_MOUNT = '/etc/wharf/config';
export const DATA_MOUNT = '/var/lib/wharf/data';
/** UID/GID the runtime runs as (the runtime image's user; any non-root id works). */
export const RUNTIME_UID = 10001;
/** A ConfigMap holds at most 1 MiB (the API server refuses more). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface ChildrenConfig {
  runtimeImage: string;
  /** Image prefixes a WorkflowApp may name besides runtimeImage. */
  allowedImages: readonly string[];
  allowCommand: boolean;
  route: 'ingress' | 'httproute' | 'none';
  /** `namespace/name` of the Gateway for HTTPRoutes. */
  gateway?: string;
  clusterIssuer?: string;
  storageClass?: string;
  storageSize: string;
}

export interface WorkflowAppObject extends KubeObject {
  spec: WorkflowAppSpec;
}

export interface DesiredChildren {
  configMap: KubeObject;
  deployment: KubeObject;
  service: KubeObject;
  /** The route the settings ask for (Ingress or HTTPRoute), or null when the environment has no URL. */
  route: { kind: 'Ingress' | 'HTTPRoute'; object: KubeObject } | null;
  volumeClaim: KubeObject | null;
}

const invalid = (message: string) => new StalledError(message, { reason: REASONS.InvalidSpec });

export function ownerReference(wa: KubeObject): OwnerReference {
  return { apiVersion: KINDS.WorkflowApp.apiVersion, kind: KINDS.WorkflowApp.kind, name: wa.metadata.name, uid: wa.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** Labels every child carries; the Deployment's selector is the `workflowapp` label alone (it may never change). */
export function childLabels(wa: WorkflowAppObject): Record<string, string> {
  const copied = Object.fromEntries(
    [LABELS.tenant, LABELS.app, LABELS.environment, LABELS.environmentKind].flatMap((k) => {
      const v = wa.metadata.labels?.[k];
      return v !== undefined ? [[k, v]] : [];
    }),
  );
  return {
    ...copied,
    [LABELS.managedBy]: MANAGED_BY.operator,
    [LABELS.partOf]: 'wharf',
    [LABELS.name]: 'wharf-app',
    [LABELS.instance]: wa.metadata.name,
    [LABELS.workflowApp]: wa.metadata.name,
  };
}

/** Config files as ConfigMap keys (keys may not hold `/`) and the paths they are mounted at. */
function configFiles(spec: WorkflowAppSpec): { data: Record<string, string>; items: { key: string; path: string }[] } {
  const data: Record<string, string> = {};
  const items: { key: string; path: string }[] = [];
  let bytes = 0;
  spec.files.forEach((f, i) => {
    const parts = f.path.split('/');
    if (f.path.startsWith('/') || f.path.includes('\\') || f.path.includes('\0') || parts.some((p) => p === '..' || p === '.' || p === '')) {
      throw invalid(`file "${f.path}" is not a relative path inside the app (no "..", no leading "/")`);
    }
    const key = `f${i}-${parts.at(-1)!.replace(/[^-._a-zA-Z0-9]/g, '_')}`.slice(0, 253);
    data[key] = f.content;
    items.push({ key, path: f.path });
    bytes += Buffer.byteLength(f.content) + key.length;
  });
  if (bytes > MAX_CONFIG_BYTES) throw invalid(`the workflow files take ${bytes} bytes; a ConfigMap holds at most ${MAX_CONFIG_BYTES}`);
  return { data, items };
}

function checkRuntime(spec: WorkflowAppSpec, config: ChildrenConfig): { image: string; command: string[] | undefined } {
  const image = spec.runtime.image ?? config.runtimeImage;
  // A prefix matches at a path boundary: "registry.example.com/wharf" allows ".../wharf/x", not ".../wharf-evil/x".
  const underPrefix = (p: string) => p.length > 0 && (image === p || image.startsWith(/[/:@]$/.test(p) ? p : `${p}/`));
  const allowed = image === config.runtimeImage || config.allowedImages.some(underPrefix);
  if (!allowed) throw new StalledError(`runtime.image "${image}" is not allowed by this operator (WHARF_OPERATOR_ALLOWED_IMAGES)`, { reason: REASONS.Forbidden });
  if (spec.runtime.command && !config.allowCommand) {
    throw new StalledError('runtime.command is not allowed by this operator (WHARF_OPERATOR_ALLOW_COMMAND): the image\'s own entrypoint runs', { reason: REASONS.Forbidden });
  }
  return { image, command: spec.runtime.command };
}

export function desiredChildren(wa: WorkflowAppObject, config: ChildrenConfig): DesiredChildren {
  const { spec } = wa;
  const name = wa.metadata.name;
  const namespace = wa.metadata.namespace!;
  const labels = childLabels(wa);
  const owner = [ownerReference(wa)];
  const meta = (childName: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) => ({
    name: childName,
    namespace,
    labels: { ...labels, ...extra.labels },
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
    ownerReferences: owner,
  });
  const { image, command } = checkRuntime(spec, config);
  const files = configFiles(spec);
  const digest = spec.version.digest;
  const cmName = configMapName(name, digest);
  const stateful = usesFileStorage(spec.files);
  const url = wa.metadata.annotations?.[ANNOTATIONS.url];

  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(cmName, { labels: { [LABELS.digest]: shortDigest(digest) }, annotations: { [ANNOTATIONS.digest]: digest } }),
    immutable: true,
    data: files.data,
  };

  // As the local target refuses them (runtime-launch.ts): NODE_OPTIONS, LD_PRELOAD, PATH, … would change how the
  // runtime process itself starts (NODE_OPTIONS=--require=/etc/wharf/config/x.js runs code from the repository).
  const reserved = spec.env.find((e) => isReservedRuntimeEnvVar(e.name));
  if (reserved) {
    throw new StalledError(`env var ${reserved.name} is reserved: it would change how the runtime process starts; remove it from wharf.yaml`, { reason: REASONS.Forbidden });
  }
  const env = [
    ...spec.env
      .map((e) => (e.secretRef ? { name: e.name, valueFrom: { secretKeyRef: { name: e.secretRef.name, key: e.secretRef.key } } } : { name: e.name, value: e.value ?? '' })),
    { name: 'WHARF_APP', value: spec.app },
    { name: 'WHARF_ENVIRONMENT', value: spec.environment },
    { name: 'WHARF_DIGEST', value: digest },
  ];
  const args = [
    ...files.items.flatMap((i) => [RUNTIME_FLAGS.config, `${CONFIG_MOUNT}/${i.path}`]),
    // A container must listen beyond loopback: the runtime's own default is 127.0.0.1.
    RUNTIME_FLAGS.host, '0.0.0.0',
    RUNTIME_FLAGS.port, String(RUNTIME_PORT),
    RUNTIME_FLAGS.dataDir, DATA_MOUNT,
    RUNTIME_FLAGS.digest, digest,
  ];
  const requests = Object.fromEntries(Object.entries(spec.resources ?? {}).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const resources = Object.keys(requests).length ? { requests, ...(requests.memory ? { limits: { memory: requests.memory } } : {}) } : undefined;
  const probe = (path: string, periodSeconds: number, failureThreshold: number, headers?: { name: string; value: string }[]) => ({
    httpGet: { path, port: 'http', ...(headers ? { httpHeaders: headers } : {}) },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });
  const podLabels = { ...labels, [LABELS.digest]: shortDigest(digest) };

  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name, { annotations: { [ANNOTATIONS.generation]: String(wa.metadata.generation ?? 0), [ANNOTATIONS.digest]: digest } }),
    spec: {
      replicas: spec.replicas,
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { [LABELS.workflowApp]: name } },
      strategy: stateful ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: podLabels, annotations: { [ANNOTATIONS.digest]: digest } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: RUNTIME_UID, runAsGroup: RUNTIME_UID, fsGroup: RUNTIME_UID, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'runtime',
              image,
              ...(command ? { command } : {}),
              args,
              ports: [{ name: 'http', containerPort: RUNTIME_PORT, protocol: 'TCP' }],
              env,
              ...(resources ? { resources } : {}),
              readinessProbe: probe(RUNTIME_HEALTH_PATH, 5, 3, [{ name: EXPECT_DIGEST_HEADER, value: digest }]),
              livenessProbe: probe(`${RUNTIME_RESERVED_PREFIX}readyz`, 20, 3),
              startupProbe: probe(`${RUNTIME_RESERVED_PREFIX}readyz`, 2, 60),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'config', mountPath: CONFIG_MOUNT, readOnly: true },
                { name: 'data', mountPath: DATA_MOUNT },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name: cmName, items: files.items } },
            stateful ? { name: 'data', persistentVolumeClaim: { claimName: name } } : { name: 'data', emptyDir: { sizeLimit: config.storageSize } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  };

  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name),
    spec: { type: 'ClusterIP', selector: { [LABELS.workflowApp]: name }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  };

  let route: DesiredChildren['route'] = null;
  if (url && config.route !== 'none') {
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      throw invalid(`annotation ${ANNOTATIONS.url} is not a URL: ${url}`);
    }
    if (config.route === 'ingress') {
      const ingressClass = wa.metadata.annotations?.[ANNOTATIONS.ingressClass];
      route = {
        kind: 'Ingress',
        object: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: meta(name, config.clusterIssuer ? { annotations: { 'cert-manager.io/cluster-issuer': config.clusterIssuer } } : {}),
          spec: {
            ...(ingressClass ? { ingressClassName: ingressClass } : {}),
            rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { name: 'http' } } } }] } }],
            ...(config.clusterIssuer ? { tls: [{ hosts: [host], secretName: `${name}-tls` }] } : {}),
          },
        },
      };
    } else {
      const [gwNamespace, gwName] = (config.gateway ?? '/').split('/');
      route = {
        kind: 'HTTPRoute',
        object: {
          apiVersion: KINDS.HTTPRoute.apiVersion,
          kind: 'HTTPRoute',
          metadata: meta(name),
          spec: {
            parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: gwNamespace, name: gwName }],
            hostnames: [host],
            rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: '', kind: 'Service', name, port: 80 }] }],
          },
        },
      };
    }
  }

  const volumeClaim: KubeObject | null = stateful
    ? {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: meta(name),
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: config.storageSize } },
          ...(config.storageClass ? { storageClassName: config.storageClass } : {}),
        },
      }
    : null;

  return { configMap, deployment, service, route, volumeClaim };
}
