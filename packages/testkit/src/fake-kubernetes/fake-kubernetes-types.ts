/** The public shape of the fake API server: its options, test controls, faults and request records. */
import type { ServiceAccountSpec, Verb } from './rbac.js';
import type { StoredObject } from './objects.js';

export interface FakeKubernetesOptions {
  /** Watch events kept for resuming watches; older resourceVersions answer 410 Expired (default 10,000). */
  watchHistory?: number;
  /** Send BOOKMARK events to watches that allow them every this many ms (default: only when `bookmark()` is called). */
  bookmarkIntervalMs?: number;
  /** Deployments report all replicas available as soon as the controller sees them (default false: call markDeploymentAvailable). */
  deploymentsBecomeAvailable?: boolean;
  /** Namespaces that exist from the start (default: default, kube-system, kube-public, kube-node-lease). */
  namespaces?: string[];
  /** YAML files of CustomResourceDefinitions to install before the first request (e.g. crds/workflowapps.wharf.dev.yaml). */
  crdFiles?: string[];
  serviceAccounts?: ServiceAccountSpec[];
  /** Serve HTTPS with a fresh self-signed certificate (default true; kubectl sends bearer tokens only over TLS). */
  tls?: boolean;
  now?: () => number;
}

export type KubeFault =
  | { kind: 'status'; code: 429 | 500 | 502 | 503 | 504; retryAfterSeconds?: number }
  /** Closes the connection without an answer (the client sees a socket hang up). */
  | { kind: 'reset' }
  /** Answers after a delay. */
  | { kind: 'delay'; ms: number }
  /** Holds the request until `release` settles, then serves it (orders events in a test without timing). */
  | { kind: 'hold'; release: Promise<unknown> };

export interface KubeFaultRule {
  fault: KubeFault;
  /** How many matching requests get the fault (default 1; Infinity for all until cleared). */
  times?: number;
  verb?: Verb;
  /** Plural resource name, e.g. `workflowapps`. */
  resource?: string;
  namespace?: string;
}

export interface KubeRequestRecord {
  at: number;
  method: string;
  path: string;
  verb: Verb | 'discovery';
  /** `<group>/<plural>` or '' for discovery. */
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  user?: string;
  fieldManager?: string;
  contentType?: string;
  status: number;
}

export interface RequestCounts {
  total: number;
  writes: number;
  byVerb: Record<Verb | 'discovery', number>;
  /** `<group>/<plural>` → verb → count. */
  byResource: Record<string, Partial<Record<Verb, number>>>;
}

export interface KubeconfigOptions {
  token?: string;
  namespace?: string;
}

export interface FakeKubernetes {
  url: string;
  /** Bearer token of the cluster admin (all verbs, all resources). */
  adminToken: string;
  /** Registers a service account with rules; returns its token. */
  addServiceAccount(sa: ServiceAccountSpec): string;
  /** A kubeconfig document (YAML) for this server and token (default: admin). */
  kubeconfig(options?: KubeconfigOptions): string;
  /** Writes `kubeconfig()` to `path` (mode 0600). */
  writeKubeconfig(path: string, options?: KubeconfigOptions): Promise<string>;
  /** What `KubeConfig.loadFromOptions` of @kubernetes/client-node takes. */
  /** PEM of the serving certificate (its own CA), when TLS is on. */
  caCertificate: string | undefined;
  clientOptions(options?: KubeconfigOptions): {
    clusters: { name: string; server: string; skipTLSVerify: boolean; caData?: string }[];
    users: { name: string; token: string }[];
    contexts: { name: string; cluster: string; user: string; namespace?: string }[];
    currentContext: string;
  };
  /** Reads an object as stored (no request counted). */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): StoredObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): StoredObject[];
  /** Writes an object's status as its controller would (no request counted); returns the stored object. */
  setStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: unknown): StoredObject;
  /** The kubelet's and deployment controller's part: all replicas of the Deployment are ready and available. */
  markDeploymentAvailable(namespace: string, name: string): StoredObject;
  /** Deletes an object as another actor would (a person, another controller), with garbage collection. */
  deleteObject(apiVersion: string, kind: string, namespace: string | undefined, name: string, propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'): void;
  /** Makes matching requests fail (a 5xx, a reset connection, a delay). */
  inject(rule: KubeFaultRule): void;
  clearFaults(): void;
  /** Stops accepting connections (clients get ECONNREFUSED) and drops open ones, until `resume()`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Sends a BOOKMARK to every open watch that allowed bookmarks. */
  bookmark(): void;
  /** Forgets the watch history: every resourceVersion before now becomes too old (410 Expired). */
  compact(): void;
  /** Ends every open watch (clients must re-watch, as after an API server restart). */
  closeWatches(): void;
  openWatches(): number;
  /** Resolves when the fake's controllers (GC, namespaces, deployments, CRDs) have nothing left to do. */
  settle(): Promise<void>;
  requests: KubeRequestRecord[];
  counts(since?: number): RequestCounts;
  resetRequests(): void;
  /** Requests refused because the fake does not implement them; a test can assert this stays empty. */
  problems: string[];
  close(): Promise<void>;
}
