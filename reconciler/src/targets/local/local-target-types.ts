/** The local target's options and what it offers beyond the Target contract. */
import type { LogLine, LogOptions, Target, TargetRef } from '@wharf/contracts';
import type { Logger } from 'pino';

export interface LocalTargetOptions {
  /** Instance dirs, data dirs, the record of running runtimes (e.g. `.wharf/local`). */
  stateDir: string;
  /** argv prefix of the runtime; `--config F… --config-root D --host H --port N --data-dir D --digest X` are appended. Default: the reference runtime. */
  runtimeCommand?: string[];
  /** 0 (default) picks a free port. */
  routerPort?: number;
  routerHost?: string;
  log: Logger;
  /** Environment variables every runtime gets (PATH, …) before the WorkflowApp's own. Default: only PATH. */
  baseEnv?: Record<string, string>;
  /** Resolves `secretRef` env vars; an unresolved one stalls the environment. */
  resolveSecret?(ref: { name: string; key: string }): string | undefined;
  /** When Wharf runs as root, runtimes run as this user (created as a system user when missing). Default `wharf-runtime`. */
  runtimeUser?: string;
  /** Heap limit of each runtime, in MiB. Default 256. */
  runtimeMemoryMb?: number;
  /** Hosts (`host` or `host:port`) every runtime may connect to (`--allow-host`). Default: none. */
  allowHosts?: readonly string[];
  /** Environments of one repository running at once; production always starts. Default 10. */
  maxEnvironmentsPerRepository?: number;
  /** The tenant (the local owner of `wharf up`) whose environments also answer at `<env>--<app>` and `/<app>/<env>/`. */
  friendlyTenantId?: number;
  /** Serve `wharf logs` on a Unix socket only Wharf's user can open (log-socket.ts). Default true. */
  logSocket?: boolean;
  /** How long a new runtime has to report the expected digest. Default 30 s. */
  healthTimeoutMs?: number;
  /** How long the old runtime may finish requests after a switch. Default 10 s. */
  drainTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace. Default 3 s. */
  stopGraceMs?: number;
  /** Lines kept per environment for `wharf logs`. Default 1000. */
  logLines?: number;
  /** Crash restarts back off from this (doubling, ±20%) to `restartMaxMs`. Defaults 1 s and 30 s. */
  restartBaseMs?: number;
  restartMaxMs?: number;
  /** Leave runtimes running on close() so the next start adopts them. Default false: close stops them. */
  keepRuntimesOnClose?: boolean;
}

export interface LocalTarget extends Target {
  recover(): Promise<{ adopted: number[] }>;
  stop(ref: TargetRef): Promise<void>;
  logs(ref: TargetRef, options?: LogOptions): AsyncIterable<LogLine>;
  readonly router: { url: string; port: number; close(): Promise<void> };
  /** Where an environment answers (its URL once applied), whether or not it runs now. */
  urlOf(ref: TargetRef): string;
  /** The pid of an environment's current runtime (tests, `wharf status`). */
  pidOf(id: number): number | undefined;
  /** Where `wharf logs` reads (null without the log socket). */
  readonly logSocketPath: string | null;
}
