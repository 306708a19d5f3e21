import path from 'node:path';
import { commonSettings, type SettingsOf, type SettingsSchema } from '@wharf/contracts';
import { storeSettings } from '@wharf/store';
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

/** The targets a reconciler builds from its settings: the local target, its state under WHARF_DATA_DIR/local. */
export function targetsFromSettings(settings: SettingsOf<typeof localTargetSettings>, dataDir: string): TargetsConfig<typeof TARGET_FACTORIES> {
  const runtimeCommand = settings.WHARF_RUNTIME_COMMAND?.split(/\s+/).filter(Boolean);
  return {
    local: {
      stateDir: path.join(dataDir, 'local'),
      routerPort: settings.WHARF_ROUTER_PORT,
      ...(runtimeCommand?.length ? { runtimeCommand } : {}),
    },
  };
}
