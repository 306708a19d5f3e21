import path from 'node:path';
import { agentPolicyFrom, agentSettings, commonSettings, type SettingsOf, type SettingsSchema } from '@wharf/contracts';
import { type DatabasePool, storeSettings } from '@wharf/store';
import { DEFAULT_MAX_ENVIRONMENTS_PER_REPO, QUOTA_SETTING } from './targets/local/quota.js';
import type { TARGET_FACTORIES, TargetsConfig } from './targets/registry.js';

/**
 * Every entry a host or host:port; a loopback host only with its port, since allowing all of this machine's ports would
 * let every runtime reach Wharf's own API (which trusts requests from this machine), router and embedded database.
 */
function checkAllowHosts(value: string): string | undefined {
  for (const entry of value.split(',').map((h) => h.trim()).filter(Boolean)) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(entry);
    if (!m) return `has an entry that is not host or host:port: ${JSON.stringify(entry)}`;
    const host = (m[1] ?? '').toLowerCase().replace(/^\[|\]$/g, '');
    const loopback = host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' || host === '0.0.0.0' || host === '::';
    if (loopback && m[2] === undefined) return `allows every port of ${entry} (this machine): name the port, e.g. ${entry}:5432`;
  }
  return undefined;
}

/** Settings of the local target, in `wharf up` and in a reconciler that runs it. */
export const localTargetSettings = {
  WHARF_ROUTER_PORT: {
    type: 'integer',
    description:
      'Port of the local router that serves every environment (`http://<label>.localhost:PORT/` and `/<label>/`; the local owner’s also at `http://<env>--<app>.localhost:PORT/` and `/<app>/<env>/`).',
    default: 4601,
    minimum: 0,
    maximum: 65535,
  },
  WHARF_RUNTIME_COMMAND: {
    type: 'string',
    description:
      'Runtime the local target starts for each environment, as a command line (e.g. the upstream engine). Wharf appends `--config FILE… --config-root DIR --host 127.0.0.1 --port N --data-dir DIR --digest D` and `--allow-host` for each allowed host. Default: the reference runtime.',
  },
  WHARF_RUNTIME_USER: {
    type: 'string',
    description:
      'When Wharf runs as root, every runtime runs as this unprivileged user (created as a system user with its own group when missing), never as root. Ignored when Wharf is not root: runtimes then run as Wharf’s user.',
    default: 'wharf-runtime',
    pattern: '^[a-z_][a-z0-9_-]{0,31}$',
  },
  WHARF_RUNTIME_MEMORY_MB: {
    type: 'integer',
    description:
      'Heap limit of each runtime in MiB (`node --max-old-space-size`; for a WHARF_RUNTIME_COMMAND that is not node, `GOMEMLIMIT` and `NODE_OPTIONS` instead, which are soft limits).',
    default: 256,
    minimum: 32,
    maximum: 65536,
  },
  WHARF_RUNTIME_ALLOW_HOSTS: {
    type: 'string',
    description:
      'Hosts every runtime may connect to (`host` or `host:port`, comma-separated; passed as `--allow-host`): Postgres DSNs, HTTP calls, webhooks, proxy backends. Default: none. A loopback host needs its port: this machine also serves Wharf’s API, router and database.',
    check: checkAllowHosts,
  },
  [QUOTA_SETTING]: {
    type: 'integer',
    description:
      'Environments of one repository that run at once on the local target. A preview over the cap is Stalled (QuotaExceeded) until one is torn down; production always runs.',
    default: DEFAULT_MAX_ENVIRONMENTS_PER_REPO,
    minimum: 1,
    maximum: 1000,
  },
} as const satisfies SettingsSchema;

/** Settings of the kubernetes target (a WorkflowApp resource per environment); the target is on when WHARF_KUBECONFIG is set. */
export const kubernetesTargetSettings = {
  WHARF_KUBECONFIG: {
    type: 'string',
    description:
      'Turns the kubernetes target on: a kubeconfig file (its current context serves `target: kubernetes`, a context named C serves `kubernetes:C`), or `in-cluster` for the service account of the pod Wharf runs in.',
  },
  WHARF_KUBERNETES_NAMESPACE_PREFIX: {
    type: 'string',
    description: 'Each tenant gets one namespace, `<prefix>t<tenant id>`, with a ResourceQuota and LimitRange from its plan.',
    default: 'wharf-',
    pattern: '^[a-z]([a-z0-9-]{0,30}[a-z0-9-])?$',
  },
  WHARF_KUBERNETES_BASE_DOMAIN: {
    type: 'string',
    description: 'Environments on Kubernetes answer at `<scheme>://<env>--<app>--t<tenant>.<domain>/` (an Ingress or HTTPRoute the operator creates). Unset: no URL and no route.',
    pattern: '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$',
  },
  WHARF_KUBERNETES_INGRESS_CLASS: { type: 'string', description: 'IngressClass of the environments\' Ingresses (default: the cluster\'s default class).' },
  WHARF_KUBERNETES_URL_SCHEME: { type: 'string', description: 'Scheme of the environments\' URLs on Kubernetes.', default: 'https', enum: ['https', 'http'] },
} as const satisfies SettingsSchema;

/** Everything the reconciler deployable reads (reconciler/src/main.ts). */
export const reconcilerSettings = {
  ...commonSettings,
  ...storeSettings,
  ...localTargetSettings,
  ...agentSettings,
  WHARF_LOCAL_TARGET: {
    type: 'boolean',
    description: 'Build the local target (runtimes as child processes of the reconciler). The Helm chart turns it off: in a cluster, environments run on `kubernetes`.',
    default: true,
  },
  ...kubernetesTargetSettings,
  WHARF_RECONCILER_HOST: { type: 'string', description: 'Address of the reconciler’s health and metrics endpoint.', default: '127.0.0.1' },
  WHARF_RECONCILER_PORT: {
    type: 'integer',
    description: 'Port of the reconciler’s `/healthz`, `/readyz` and `/metrics` when it runs alone.',
    default: 4602,
    minimum: 0,
    maximum: 65535,
  },
} as const satisfies SettingsSchema;
export type ReconcilerSettings = SettingsOf<typeof reconcilerSettings>;

/** What the targets read from Wharf's store: the kubernetes target a tenant's plan (its namespace's quota); the agent target the database. */
export interface TargetStoreDeps {
  tenantPlan?: (tenantId: number) => Promise<string | null>;
  pool?: DatabasePool;
}

/**
 * The targets a reconciler builds from its settings: the local target (its state under WHARF_DATA_DIR/local), the
 * kubernetes target when WHARF_KUBECONFIG is set, and, given the database, the agent target (documents for pull
 * agents, in the same database).
 */
export function targetsFromSettings(
  settings: SettingsOf<typeof localTargetSettings> & Partial<SettingsOf<typeof kubernetesTargetSettings>> & Partial<SettingsOf<typeof agentSettings>> & { WHARF_LOCAL_TARGET?: boolean },
  dataDir: string,
  deps: TargetStoreDeps = {},
): TargetsConfig<typeof TARGET_FACTORIES> {
  const runtimeCommand = settings.WHARF_RUNTIME_COMMAND?.split(/\s+/).filter(Boolean);
  const agentPolicy = agentPolicyFrom({
    WHARF_AGENT_STALE_AFTER: settings.WHARF_AGENT_STALE_AFTER ?? agentSettings.WHARF_AGENT_STALE_AFTER.default,
    WHARF_AGENT_OFFLINE_AFTER: settings.WHARF_AGENT_OFFLINE_AFTER ?? agentSettings.WHARF_AGENT_OFFLINE_AFTER.default,
    WHARF_AGENT_REASSIGN_AFTER: settings.WHARF_AGENT_REASSIGN_AFTER ?? agentSettings.WHARF_AGENT_REASSIGN_AFTER.default,
  });
  const allowHosts = settings.WHARF_RUNTIME_ALLOW_HOSTS?.split(',').map((h) => h.trim()).filter(Boolean) ?? [];
  return {
    ...(settings.WHARF_LOCAL_TARGET === false
      ? {}
      : {
          local: {
            stateDir: path.join(dataDir, 'local'),
            routerPort: settings.WHARF_ROUTER_PORT,
            runtimeUser: settings.WHARF_RUNTIME_USER,
            runtimeMemoryMb: settings.WHARF_RUNTIME_MEMORY_MB,
            allowHosts,
            maxEnvironmentsPerRepository: settings[QUOTA_SETTING],
            ...(runtimeCommand?.length ? { runtimeCommand } : {}),
          },
        }),
    ...(settings.WHARF_KUBECONFIG
      ? {
          kubernetes: {
            kubeconfig: settings.WHARF_KUBECONFIG,
            namespacePrefix: settings.WHARF_KUBERNETES_NAMESPACE_PREFIX ?? 'wharf-',
            baseDomain: settings.WHARF_KUBERNETES_BASE_DOMAIN,
            ingressClass: settings.WHARF_KUBERNETES_INGRESS_CLASS,
            urlScheme: settings.WHARF_KUBERNETES_URL_SCHEME === 'http' ? 'http' : 'https',
            ...(deps.tenantPlan ? { tenantPlan: deps.tenantPlan } : {}),
          },
        }
      : {}),
    ...(deps.pool
      ? { agent: { pool: deps.pool, liveness: { staleAfterMs: agentPolicy.staleAfterMs, offlineAfterMs: agentPolicy.offlineAfterMs }, reassignAfterMs: agentPolicy.reassignAfterMs } }
      : {}),
  };
}
