/**
 * One contract for every place an environment can run. `local` runs processes on this machine; `kubernetes`
 * server-side-applies a WorkflowApp resource and reads its status back; `agent` publishes the desired document
 * for a pull agent and reads what it reports. Each fits: apply may finish the rollout (local) or start it and
 * answer `progressing` (kubernetes, agent), whose readiness then shows in `observe`; delete may be immediate or
 * `pending` until confirmed.
 */
import type { WorkflowAppSpec } from '@wharf/contracts';
import type { Logger } from 'pino';

export interface TargetRef {
  /** environments.id */
  id: number;
  tenantId: number;
  app: string;
  name: string;
}

export interface TargetEnvironment extends TargetRef {
  kind: 'production' | 'preview';
  generation: number;
  digest: string;
  spec: WorkflowAppSpec;
}

export interface TargetContext {
  /** Aborted when the apply timeout passes or the reconciler stops: stop work, leave the old version serving. */
  signal: AbortSignal;
  log: Logger;
}

export interface ApplyContext extends TargetContext {
  /** From the plan: `create`, `update` or `restart` (same digest, runtime unhealthy or missing). */
  action: 'create' | 'update' | 'restart';
}

export interface Observation {
  exists: boolean;
  /** Digest the runtime reports serving; null when unknown. */
  digest: string | null;
  healthy: boolean;
  url: string | null;
  message?: string;
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
  /** Serves `logs()` for `wharf logs`. */
  logs: boolean;
  /** Environments get a URL. */
  urls: boolean;
  /** The target's runtimes do not outlive it unless adopted: the reconciler calls recover() at start. */
  needsRecovery: boolean;
}

export interface LogLine {
  at: string;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
}

export interface Target {
  readonly name: string;
  readonly capabilities: TargetCapabilities;
  /** Make the environment run `env.spec`. Throw StalledError/WaitingError/anything (see errors.ts). */
  apply(env: TargetEnvironment, ctx: ApplyContext): Promise<ApplyResult>;
  observe(ref: TargetRef, ctx: TargetContext): Promise<Observation>;
  /** Remove everything of the environment; `deleted` only when nothing is left. */
  delete(ref: TargetRef, ctx: TargetContext): Promise<DeleteResult>;
  /** After a restart: adopt or stop what a previous run left; returns the environments still running. */
  recover?(): Promise<{ adopted: number[] }>;
  /** Recent output, and new lines as they come when `follow` is given. Returns an unsubscribe function. */
  logs?(ref: Pick<TargetRef, 'id'>, follow?: (line: LogLine) => void): { lines: LogLine[]; stop(): void };
  close(): Promise<void>;
}
