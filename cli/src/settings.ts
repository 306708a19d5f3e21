import type { SettingsSchema } from '@wharf/contracts';
import { storeSettings } from '@wharf/store';
import { serverSettings } from '@wharf/webhook-app';

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
} as const satisfies SettingsSchema;

/** Everything `wharf up` reads. The README's settings table is generated from this. */
export const upSettings = { ...processSettings, ...serverSettings, ...storeSettings } as const satisfies SettingsSchema;
