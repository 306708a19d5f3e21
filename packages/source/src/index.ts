export { createSource, resolveGitdir, type RemotePoller, type SetDesiredInput, type Source, type SourceOptions } from './create-source.js';
export type { IngestResult } from './ingest.js';
export type { SyncResult } from './sync-heads.js';
export { commitActor, type Actor, type DesiredChange, type DesiredOptions, type EnvironmentTarget } from './desired-state.js';
export type { LocalWatcher } from './watch-local.js';
export type { FetchOptions, FetchResult, RemoteAuth } from './remote/fetch-remote.js';
export { RemoteUnavailableError, type RetryPolicy } from './remote/retry.js';
export { RemoteTimeoutError } from './remote/http-client.js';
export {
  DEFAULT_FETCH_LIMITS,
  FETCH_REFUSED_REASONS,
  type FetchLimits,
  type FetchRefusedReason,
  formatBytes,
  isFetchRefused,
  PackTooLargeError,
  RefAdvertisementTooLargeError,
  RefNotFoundError,
} from './remote/fetch-limits.js';
export { ObjectTooLargeError, READ_LIMITS, type ReadLimits } from './git/read-limits.js';
export { fetchLimitsFrom, sourceSettings } from './settings.js';
export { branchSlug } from './branch-slug.js';
export { canonicalJson } from './canonical-json.js';
export { appDigest } from './read-version.js';
export { commitRestore, type RestoreOutcome } from './git/commit-restore.js';
