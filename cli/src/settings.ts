import { commonSettings, type SettingsSchema } from '@wharf/contracts';
import { kubernetesTargetSettings, localTargetSettings } from '@wharf/reconciler';
import { sourceSettings } from '@wharf/source';
import { storeSettings } from '@wharf/store';
import { agentApiSettings, apiSettings, githubSettings, serverSettings, stripeSettings, usageMetering } from '@wharf/webhook-app';

/** What only `wharf up` reads; the rest comes from the deployables it composes. */
export const upOnlySettings = {
  WHARF_LOG_FILE: {
    type: 'string',
    description: 'Where JSON logs go: a file path, or `-` for standard error. Defaults to `WHARF_DATA_DIR/wharf.log`.',
  },
  WHARF_REPO: {
    type: 'string',
    description: 'Git working copy that `wharf up` watches (same as `--repo`). When unset, an example repository is created under `WHARF_DATA_DIR/repos/`.',
  },
  WHARF_EXAMPLE: {
    type: 'string',
    description: 'Which folder of `examples/` `wharf up` starts from when no repository is configured (same as `--example`).',
    default: 'hello-api',
  },
} as const satisfies SettingsSchema;

/** Everything `wharf up` reads: the control-plane server's, the reconciler's, and its own. The README's table is generated from this. */
export const upSettings = {
  ...commonSettings,
  ...upOnlySettings,
  ...localTargetSettings,
  ...kubernetesTargetSettings,
  ...serverSettings,
  ...storeSettings,
  ...githubSettings,
  ...sourceSettings,
  ...apiSettings,
  ...stripeSettings,
  ...usageMetering.meteringSettings,
  // `wharf up` needs no login: requests from this machine act as the local owner.
  WHARF_API_LOCAL_OWNER: { ...apiSettings.WHARF_API_LOCAL_OWNER, default: true },
  ...agentApiSettings,
} as const satisfies SettingsSchema;
