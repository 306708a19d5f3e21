/**
 * `@wharf/source/remote`: the bounded fetch layer on its own (one repository's cache clone, named refs, pack and
 * advertisement limits), for tools and benchmarks that measure it without the database-backed Source around it.
 */
export { createRefusedPacks, fetchRefs, type RemoteDeps } from './fetch-remote.js';
export { createHttpClient } from './http-client.js';
export { DEFAULT_RETRY } from './retry.js';
export { DEFAULT_FETCH_LIMITS, isFetchRefused } from './fetch-limits.js';
