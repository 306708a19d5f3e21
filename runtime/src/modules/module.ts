import type { ModuleSpec, RouteSpec } from '../config/app-config.js';
import type { Logger } from 'pino';
import type { OutboundPolicy } from '../confine/outbound-policy.js';
import type { PathPolicy } from '../confine/path-policy.js';
import type { RouteTable } from '../http/http-types.js';
import type { Metrics } from '../http/metrics.js';
import type { RuntimeLimits } from '../limits.js';
import type { SqliteFiles } from './sqlite-files.js';

/** A started module instance; services are found by module name. */
export type RuntimeModule = {
  readonly name: string;
  readonly type: string;
  /** Registers HTTP routes the module answers by itself (auth handlers, static files). */
  registerRoutes?(table: RouteTable, routes: readonly RouteSpec[]): void;
  /** Starts background work (schedules) once the runtime listens. */
  start?(): void;
  close?(): Promise<void> | void;
};

export type ModuleDeps = {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Where the config may read and write; every path in module config goes through it. */
  readonly paths: PathPolicy;
  /** Where the config may connect. */
  readonly outbound: OutboundPolicy;
  readonly limits: RuntimeLimits;
  readonly sqlite: SqliteFiles;
  /** The runtime's request and step metrics (metrics.collector serves them on the app's own path). */
  readonly metrics: Metrics;
};

export type ModuleFactory = (spec: ModuleSpec, deps: ModuleDeps) => RuntimeModule | Promise<RuntimeModule>;

export type ModuleSet = {
  get(name: string): RuntimeModule | undefined;
  ofType(...types: string[]): RuntimeModule[];
  all(): readonly RuntimeModule[];
};

/** `<file>: module <name> (<type>) config.<key>`, the prefix of every problem a module's config causes. */
export const whereInModule = (spec: ModuleSpec, key: string) => `${spec.file}: module ${spec.name} (${spec.type}) config.${key}`;
