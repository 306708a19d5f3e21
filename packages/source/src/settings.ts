import type { SettingsOf, SettingsSchema } from '@wharf/contracts';
import { DEFAULT_FETCH_LIMITS, type FetchLimits } from './remote/fetch-limits.js';

/** Settings of the Git source (fetches from remotes). `main.ts` reads them and hands `fetchLimitsFrom(…)` to createSource. */
export const sourceSettings = {
  WHARF_GIT_MAX_PACK_BYTES: {
    type: 'integer',
    description:
      'Largest pack one fetch may receive, in bytes (default 256 MiB). A push or pull request whose new objects are larger is refused as it streams in, with an error naming the ref and the limit; nothing is stored.',
    default: DEFAULT_FETCH_LIMITS.maxPackBytes,
    minimum: 1024,
  },
  WHARF_GIT_MAX_ADVERTISEMENT_BYTES: {
    type: 'integer',
    description: 'Largest ref advertisement (the list of branches, tags and pull request refs) a remote may send, in bytes (default 32 MiB).',
    default: DEFAULT_FETCH_LIMITS.maxAdvertisementBytes,
    minimum: 1024,
  },
  WHARF_GIT_MAX_REFS: {
    type: 'integer',
    description: 'Most refs a remote may advertise; a repository with more is refused with a clear error.',
    default: DEFAULT_FETCH_LIMITS.maxAdvertisedRefs,
    minimum: 1,
  },
} as const satisfies SettingsSchema;

export const fetchLimitsFrom = (settings: SettingsOf<typeof sourceSettings>): FetchLimits => ({
  maxPackBytes: settings.WHARF_GIT_MAX_PACK_BYTES,
  maxAdvertisementBytes: settings.WHARF_GIT_MAX_ADVERTISEMENT_BYTES,
  maxAdvertisedRefs: settings.WHARF_GIT_MAX_REFS,
});
