/**
 * One contract for every place an environment can run. `local` runs processes on this machine; `kubernetes`
 * server-side-applies a WorkflowApp resource and reads its status back; `agent` publishes the desired document for
 * a pull agent and reads what it reports. Each fits: apply may finish the rollout (local) or start it and answer
 * `progressing` (kubernetes, agent), whose readiness then shows in `observe`; delete may be immediate or `pending`
 * until confirmed. Optional capabilities (logs, recovery) are methods a target may leave out.
 *
 * Targets are built only by the reconciler's registry (reconciler/src/targets/registry.ts), which resolves
 * `environments.target` names such as `agent:edge` to a target and its qualifier.
 */
import type { Condition } from './conditions.js';
import type { EnvironmentKind } from './domain/environment.js';
import type { PlanActionType } from './plan/plan.js';
import type { WorkflowAppSpec } from './workflow-app.js';

/** The part of a pino logger targets use (pino's Logger fits it). */
export interface TargetLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): TargetLog;
}

export interface TargetRef {
  /** environments.id (an operator working from custom resources uses its own stable number). */
  id: number;
  tenantId: number;
  /** The repository the environment's app lives in: with tenantId, app and name, the environment's identity. */
  repositoryId: number;
  app: string;
  name: string;
  /** The part of the target name after the colon: the agent pool of `agent:edge`, the cluster of `kubernetes:eu-1`. */
  qualifier: string | null;
}

export interface TargetEnvironment extends TargetRef {
  kind: EnvironmentKind;
  generation: number;
  digest: string;
  spec: WorkflowAppSpec;
}

export interface TargetContext {
  /** Aborted when the apply timeout passes or the reconciler stops: stop work, leave the old version serving. */
  signal: AbortSignal;
  log: TargetLog;
}

export interface ApplyContext extends TargetContext {
  /** From the plan: `create`, `update` or `restart` (same digest, runtime unhealthy or missing). */
  action: Exclude<PlanActionType, 'delete' | 'noop'>;
}

/** One runtime instance: a local process, a Kubernetes pod, an agent's VM or container. */
export interface InstanceObservation {
  /** `pid 4242`, a pod name, a VM id. */
  name: string;
  digest: string | null;
  healthy: boolean;
  message?: string;
  /** Where it runs: this machine, a node, a Proxmox host. */
  host?: string;
  startedAt?: string;
  restarts?: number;
  /** Requests it answered for the app since it started (the runtime's counter), when the target can read it: metered. */
  requestsTotal?: number;
}

export interface Observation {
  exists: boolean;
  /** Digest the runtime reports serving (all instances agree); null when unknown or mixed. */
  digest: string | null;
  healthy: boolean;
  url: string | null;
  message?: string;
  /**
   * The desired generation the target last acted on (a custom resource's status.observedGeneration, an agent's
   * report, the generation a local runtime was started for); null when the target cannot tell.
   */
  observedGeneration: number | null;
  /** Conditions the target itself reports (a custom resource's status); empty when it has none of its own. */
  conditions: Condition[];
  /** Per replica or instance detail, for `wharf status` and the API. */
  instances: InstanceObservation[];
}

export type ApplyResult =
  | { status: 'ready'; url: string | null; message?: string }
  /** Accepted; readiness will show in observe (kubernetes, agent). The reconciler looks again after retryAfterMs. */
  | { status: 'progressing'; url: string | null; message: string; retryAfterMs?: number };

export type DeleteResult = { status: 'deleted' } | { status: 'pending'; message: string; retryAfterMs?: number };

export interface TargetCapabilities {
  /** How a new version replaces the old one. */
  rollout: 'swap' | 'rolling' | 'recreate';
  /** True when apply returns only once the new version is healthy. */
  applyWaitsForHealthy: boolean;
  /** Environments get a URL. */
  urls: boolean;
}

export interface LogLine {
  at: string;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
  /** The instance that printed it, when there are several. */
  instance?: string;
}

export interface LogOptions {
  /** Keep yielding new lines until `signal` aborts. */
  follow?: boolean;
  /** At most this many of the kept lines first (default: all the target keeps). */
  tail?: number;
  signal?: AbortSignal;
}

export interface Target {
  readonly name: string;
  readonly capabilities: TargetCapabilities;
  /** Make the environment run `env.spec`. Throw the reconciler's StalledError/WaitingError, or anything (backs off). */
  apply(env: TargetEnvironment, ctx: ApplyContext): Promise<ApplyResult>;
  observe(ref: TargetRef, ctx: TargetContext): Promise<Observation>;
  /** Remove everything of the environment; `deleted` only when nothing is left. */
  delete(ref: TargetRef, ctx: TargetContext): Promise<DeleteResult>;
  /**
   * Capability: after a restart, adopt or stop what a previous run left (local processes outlive Wharf only when
   * adopted). Returns the environments still running; the reconciler re-checks every other one at once.
   */
  recover?(): Promise<{ adopted: number[] }>;
  /**
   * Capability: stop what runs for the environment but keep its data (a suspended tenant); the next apply starts it
   * again on the same data. A target without it leaves the runtime running.
   */
  stop?(ref: TargetRef, ctx: TargetContext): Promise<void>;
  /** Capability: the runtime's output, kept lines first, then (with `follow`) new lines as they come. */
  logs?(ref: TargetRef, options?: LogOptions): AsyncIterable<LogLine>;
  close(): Promise<void>;
}

/** What a target reports when nothing of the environment runs. */
export const nothingRunning = (): Observation => ({
  exists: false,
  digest: null,
  healthy: false,
  url: null,
  observedGeneration: null,
  conditions: [],
  instances: [],
});
