import type { SettingsSchema } from '@wharf/contracts';
import { sourceSettings } from '@wharf/source';
import { storeSettings } from '@wharf/store';
import { githubSettings, serverSettings } from '@wharf/webhook-app';

export const processSettings = {
  WHARF_DATA_DIR: {
    type: 'string',
    description: 'Where `wharf up` keeps its state: the embedded database (`pg/`), example repositories, runtime work dirs, logs.',
    default: '.wharf',
  },
  WHARF_LOG_LEVEL: {
    type: 'string',
    description: 'Log level.',
    default: 'info',
    enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  },
  WHARF_LOG_FILE: {
    type: 'string',
    description: 'Where JSON logs go: a file path, or `-` for standard error. Defaults to `WHARF_DATA_DIR/wharf.log`.',
  },
  WHARF_ROUTER_PORT: {
    type: 'integer',
    description: 'Port of the local router that serves every environment (`http://<env>--<app>.localhost:PORT/` and `/<app>/<env>/`).',
    default: 4601,
    minimum: 0,
    maximum: 65535,
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
  WHARF_RUNTIME_COMMAND: {
    type: 'string',
    description:
      'Runtime the local target starts for each environment, as a command line (e.g. the upstream engine). Wharf appends `--config FILE… --port N --data-dir DIR --digest D`. Default: the reference runtime.',
  },
  GITHUB_GIT_URL: {
    type: 'string',
    description:
      'Base URL that repositories are cloned from over HTTPS, as `<base>/<owner>/<repo>.git`. Default: https://github.com, or the GitHub Enterprise host of GITHUB_API_URL.',
    pattern: '^https?://',
  },
} as const satisfies SettingsSchema;

/** Everything `wharf up` reads. The README's settings table is generated from this. */
export const upSettings = { ...processSettings, ...serverSettings, ...storeSettings, ...githubSettings, ...sourceSettings } as const satisfies SettingsSchema;
