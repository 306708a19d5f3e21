/** What the operator deployable (`reconciler --operator`, `wharf operator`) reads. The chart's values schema and docs/kubernetes.md come from here. */
import { commonSettings, type SettingsOf, type SettingsSchema } from '@wharf/contracts';

export const DEFAULT_RUNTIME_IMAGE = 'ghcr.io/wharf-dev/wharf-runtime:0.1.0';

export const operatorSettings = {
  WHARF_LOG_LEVEL: commonSettings.WHARF_LOG_LEVEL,
  WHARF_KUBECONFIG: {
    type: 'string',
    description: 'Credentials of the cluster the operator runs: `in-cluster` (the pod\'s service account, as the chart runs it) or a kubeconfig file.',
    default: 'in-cluster',
  },
  WHARF_RUNTIME_IMAGE: {
    type: 'string',
    description: 'Image of the runtime each environment runs (Wharf\'s reference runtime; the upstream engine\'s image works too). A WorkflowApp naming another image needs it in WHARF_OPERATOR_ALLOWED_IMAGES.',
    default: DEFAULT_RUNTIME_IMAGE,
  },
  WHARF_OPERATOR_ALLOWED_IMAGES: {
    type: 'string',
    description: 'Comma-separated image prefixes a WorkflowApp\'s `runtime.image` may use besides WHARF_RUNTIME_IMAGE (e.g. `ghcr.io/acme/`). Default: none.',
  },
  WHARF_OPERATOR_ALLOW_COMMAND: {
    type: 'boolean',
    description: 'Let a WorkflowApp\'s `runtime.command` replace the image\'s entrypoint (off by default: a committed config would choose what runs).',
    default: false,
  },
  WHARF_OPERATOR_ROUTE: {
    type: 'string',
    description: 'How an environment with a URL is exposed: an Ingress, a Gateway API HTTPRoute, or nothing.',
    default: 'ingress',
    enum: ['ingress', 'httproute', 'none'],
  },
  WHARF_OPERATOR_GATEWAY: {
    type: 'string',
    description: 'The Gateway HTTPRoutes attach to, as `namespace/name` (required with WHARF_OPERATOR_ROUTE=httproute).',
    pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?/[a-z0-9]([a-z0-9.-]*[a-z0-9])?$',
  },
  WHARF_OPERATOR_CLUSTER_ISSUER: {
    type: 'string',
    description: 'cert-manager ClusterIssuer for the Ingresses\' TLS certificates (adds the annotation and a `tls` section). Unset: no TLS section.',
  },
  WHARF_OPERATOR_STORAGE_CLASS: { type: 'string', description: 'StorageClass of the volume claims of apps that keep files (SQLite). Default: the cluster\'s default class.' },
  WHARF_OPERATOR_STORAGE_SIZE: {
    type: 'string',
    description: 'Size of the volume claim of an app that keeps files.',
    default: '1Gi',
    pattern: '^[0-9]+(\\.[0-9]+)?([EPTGMK]i?)?$',
  },
  WHARF_OPERATOR_CONCURRENCY: { type: 'integer', description: 'WorkflowApps reconciled at once.', default: 8, minimum: 1, maximum: 256 },
  WHARF_OPERATOR_RESYNC_SECONDS: {
    type: 'integer',
    description: 'Every WorkflowApp is compared with its children at least this often, from the cache (no API requests), besides reacting to every change.',
    default: 300,
    minimum: 10,
  },
  WHARF_OPERATOR_LEASE_NAMESPACE: { type: 'string', description: 'Namespace of the leader-election Lease (the operator\'s own).', default: 'wharf-system' },
  WHARF_OPERATOR_LEASE_NAME: { type: 'string', description: 'Name of the leader-election Lease.', default: 'wharf-operator' },
  WHARF_OPERATOR_LEASE_SECONDS: {
    type: 'integer',
    description: 'How long a leader\'s Lease holds without renewal; it renews every third of it, and a standby takes over once it expires.',
    default: 30,
    minimum: 6,
    maximum: 600,
  },
  WHARF_OPERATOR_ID: { type: 'string', description: 'This replica\'s identity in the Lease. Default: the host name (the pod name).' },
  WHARF_OPERATOR_HOST: { type: 'string', description: 'Address of the operator\'s `/healthz`, `/readyz` and `/metrics`.', default: '0.0.0.0' },
  WHARF_OPERATOR_PORT: { type: 'integer', description: 'Port of the operator\'s `/healthz`, `/readyz` and `/metrics`.', default: 4603, minimum: 0, maximum: 65535 },
} as const satisfies SettingsSchema;
export type OperatorSettings = SettingsOf<typeof operatorSettings>;
