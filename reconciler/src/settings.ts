import path from 'node:path';
import { agentPolicyFrom, agentSettings, commonSettings, type SettingsOf, type SettingsSchema } from '@wharf/contracts';
import { type DatabasePool, storeSettings } from '@wharf/store';
import type { TARGET_FACTORIES, TargetsConfig } from './targets/registry.js';

/** Settings of the local target, in `wharf up` and in a reconciler that runs it. */
export const localTargetSettings = {
  WHARF_ROUTER_PORT: {
    type: 'integer',
    description: 'Port of the local router that serves every environment (`http://<env>--<app>.localhost:PORT/` and `/<app>/<env>/`).',
    default: 4601,
    minimum: 0,
    maximum: 65535,
  },
  WHARF_RUNTIME_COMMAND: {
    type: 'string',
    description:
      'Runtime the local target starts for each environment, as a command line (e.g. the upstream engine). Wharf appends `--config FILE… --port N --data-dir DIR --digest D`. Default: the reference runtime.',
  },
} as const satisfies SettingsSchema;

/** Everything the reconciler deployable reads (reconciler/src/main.ts). */
export const reconcilerSettings = {
  ...commonSettings,
  ...storeSettings,
  ...localTargetSettings,
  ...agentSettings,
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

/**
 * The targets a reconciler builds from its settings: the local target, its state under WHARF_DATA_DIR/local; and,
 * given the database, the agent target (documents for pull agents, in the same database).
 */
export function targetsFromSettings(
  settings: SettingsOf<typeof localTargetSettings> & Partial<SettingsOf<typeof agentSettings>>,
  dataDir: string,
  deps: { pool?: DatabasePool } = {},
): TargetsConfig<typeof TARGET_FACTORIES> {
  const runtimeCommand = settings.WHARF_RUNTIME_COMMAND?.split(/\s+/).filter(Boolean);
  const agentPolicy = agentPolicyFrom({
    WHARF_AGENT_STALE_AFTER: settings.WHARF_AGENT_STALE_AFTER ?? agentSettings.WHARF_AGENT_STALE_AFTER.default,
    WHARF_AGENT_OFFLINE_AFTER: settings.WHARF_AGENT_OFFLINE_AFTER ?? agentSettings.WHARF_AGENT_OFFLINE_AFTER.default,
    WHARF_AGENT_REASSIGN_AFTER: settings.WHARF_AGENT_REASSIGN_AFTER ?? agentSettings.WHARF_AGENT_REASSIGN_AFTER.default,
  });
  return {
    local: {
      stateDir: path.join(dataDir, 'local'),
      routerPort: settings.WHARF_ROUTER_PORT,
      ...(runtimeCommand?.length ? { runtimeCommand } : {}),
    },
    ...(deps.pool
      ? { agent: { pool: deps.pool, liveness: { staleAfterMs: agentPolicy.staleAfterMs, offlineAfterMs: agentPolicy.offlineAfterMs }, reassignAfterMs: agentPolicy.reassignAfterMs } }
      : {}),
  };
}
