/**
 * The control-plane server's units: each is an encapsulated Fastify plugin in its own folder (`github/` today;
 * `api/`, `agent-api/` and `dashboard/` next), with whatever runs beside its routes (workers, drains). Adding one is
 * a folder that exports a UnitFactory, and one line in CONTROL_PLANE_UNITS.
 */
import type { DatabasePool } from '@wharf/store';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { agentApiUnit } from './agent-api/unit.js';
import { apiUnit } from './api/unit.js';
import { billingUnit } from './billing/unit.js';
import { dashboardUnit } from './dashboard/unit.js';
import type { EnvironmentLogs } from './api/deps.js';
import { githubUnit } from './github/unit.js';
import { meteringUnit } from './metering/unit.js';
import type { ControlPlaneSettings } from './settings.js';

export interface UnitContext {
  pool: DatabasePool;
  log: Logger;
  /** Prometheus registry the unit registers its metrics on. */
  registry: Registry;
  /** Every control-plane setting, validated; each unit reads its own. */
  settings: ControlPlaneSettings;
  /** Where units may keep files (the source's clone cache), an absolute path. */
  dataDir: string;
  /** The database's URL, for LISTEN (DATABASE_URL, or the embedded server `wharf up` started). */
  databaseUrl?: string;
  /** What the process composing the server can offer its units (the local target's logs in `wharf up`). */
  services?: ControlPlaneServices;
}

export interface ControlPlaneServices {
  environmentLogs?: EnvironmentLogs;
}

export interface ControlPlaneUnit {
  name: string;
  /** Routes, registered as an encapsulated plugin (under `prefix` when set). */
  plugin?: FastifyPluginAsync;
  prefix?: string;
  /** A readiness check on /readyz; throws when not ready. */
  ready?: () => Promise<void>;
  /** Starts what runs beside the routes, once the server listens. */
  start?: () => void;
  stop?: () => Promise<void>;
}

/** Builds a unit, or returns null when it is not configured (the GitHub App without GITHUB_APP_ID). */
export type UnitFactory = (ctx: UnitContext) => Promise<ControlPlaneUnit | null>;

/** Every unit of the control-plane server, in the order they are mounted. */
export const CONTROL_PLANE_UNITS = {
  github: githubUnit,
  api: apiUnit,
  agentApi: agentApiUnit,
  billing: billingUnit,
  metering: meteringUnit,
  dashboard: dashboardUnit,
} as const satisfies Record<string, UnitFactory>;

/** Builds the configured units; a unit that fails to build stops those already built. */
export async function buildUnits(ctx: UnitContext, factories: Record<string, UnitFactory> = CONTROL_PLANE_UNITS): Promise<ControlPlaneUnit[]> {
  const units: ControlPlaneUnit[] = [];
  try {
    for (const [name, factory] of Object.entries(factories)) {
      const unit = await factory({ ...ctx, log: ctx.log.child({ unit: name }) });
      if (unit) units.push(unit);
    }
  } catch (err) {
    for (const u of units.reverse()) await u.stop?.().catch(() => undefined);
    throw err;
  }
  return units;
}
