/**
 * What the environment commands (status, history, diff, logs, suspend, resume, rollback) need from a Wharf: the
 * local store (`wharf up` on this machine, or DATABASE_URL), or a remote Wharf through its REST API. The commands
 * print the same output and exit with the same codes either way.
 */
import type { Plan } from '@wharf/contracts';
import type { environmentViews, history } from '@wharf/store';

export type EnvironmentRow = environmentViews.EnvironmentSummary;
export type RolloutRow = history.RolloutView;

export interface RollbackOutcome {
  mode: 'commit' | 'pull-request';
  commit: string | null;
  branch: string;
  toSha: string;
}

/**
 * Where log lines are read: a remote Wharf's API (a URL with its credentials), or, on this machine, the local target's
 * log socket, which only Wharf's own user can open (the router serves no logs).
 */
export type LogSource = { url: string; headers: Record<string, string> } | { socketPath: string; path: string };

export interface EnvironmentBackend {
  /** Every environment the caller sees, by app and name. */
  list(): Promise<readonly EnvironmentRow[]>;
  /** Environments named `name` (of `app`). */
  find(name: string, app?: string): Promise<readonly EnvironmentRow[]>;
  rollouts(env: EnvironmentRow, limit: number): Promise<readonly RolloutRow[]>;
  diff(env: EnvironmentRow): Promise<Plan>;
  setSuspended(env: EnvironmentRow, suspended: boolean, reason: string): Promise<void>;
  /** Where the environment's log lines ({at, stream, line} as JSON lines) are read, or why they cannot be. */
  logs(env: EnvironmentRow, options: { follow: boolean; lines?: number }): Promise<LogSource | { error: string }>;
  rollback(env: EnvironmentRow, version: string, reason: string): Promise<RollbackOutcome>;
  close(): Promise<void>;
}

/** A failure to report as `message` with exit code 1 (an unknown version, a dirty working copy, a refusal). */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}
