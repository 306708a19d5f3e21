import type { ModuleSpec, RouteSpec } from '../config/app-config.js';
import type { Logger } from 'pino';
import type { RouteTable } from '../http/http-types.js';

/** A started module instance; services are found by module name. */
export type RuntimeModule = {
  readonly name: string;
  readonly type: string;
  /** Registers HTTP routes the module answers by itself (auth handlers, static files). */
  registerRoutes?(table: RouteTable, routes: readonly RouteSpec[]): void;
  close?(): Promise<void> | void;
};

export type ModuleDeps = {
  readonly dataDir: string | null;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
};

export type ModuleFactory = (spec: ModuleSpec, deps: ModuleDeps) => RuntimeModule | Promise<RuntimeModule>;

export type ModuleSet = {
  get(name: string): RuntimeModule | undefined;
  ofType(...types: string[]): RuntimeModule[];
  all(): readonly RuntimeModule[];
};
