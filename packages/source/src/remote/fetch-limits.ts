/**
 * What one fetch from a remote may cost, and the typed errors for a fetch refused by it. A remote (a fork, a push, a
 * repository with thousands of branches) decides how many bytes it sends: every response is counted as it streams
 * and refused past its limit, before anything is kept in memory or stored in the cache.
 */

export interface FetchLimits {
  /** Bytes of one upload-pack response (the pack for the refs asked for). */
  maxPackBytes: number;
  /** Bytes of one ref advertisement (`info/refs`, `ls-refs`). */
  maxAdvertisementBytes: number;
  /** Refs in one ref advertisement. */
  maxAdvertisedRefs: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_FETCH_LIMITS: FetchLimits = {
  maxPackBytes: 256 * MiB,
  maxAdvertisementBytes: 32 * MiB,
  maxAdvertisedRefs: 100_000,
};

/** `268435456` → `256 MiB`; `1536` → `1.5 KiB`. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} bytes` : `${Number(value.toFixed(1))} ${units[unit]}`;
}

export const FETCH_REFUSED_REASONS = {
  PackTooLarge: 'PackTooLarge',
  RefAdvertisementTooLarge: 'RefAdvertisementTooLarge',
} as const;
export type FetchRefusedReason = (typeof FETCH_REFUSED_REASONS)[keyof typeof FETCH_REFUSED_REASONS];

/**
 * The remote sent more than `maxPackBytes` for `ref`: the transfer was cut at the limit, the partial response was
 * discarded, and the cache is as it was. Retrying cannot help until the ref changes (the push must get smaller).
 */
export class PackTooLargeError extends Error {
  override readonly name = 'PackTooLargeError';
  readonly reason = FETCH_REFUSED_REASONS.PackTooLarge;
  constructor(
    readonly ref: string,
    readonly limitBytes: number,
    /** Bytes read from the remote before the transfer was cut. */
    readonly receivedBytes: number,
    /** The commit the pack was for, when the request named one. */
    readonly oid?: string,
  ) {
    super(`pack for ${ref} is over ${formatBytes(limitBytes)} (limit); nothing was stored`);
  }
}

/** The remote advertised more refs, or more bytes of refs, than the limits allow: nothing was fetched. */
export class RefAdvertisementTooLargeError extends Error {
  override readonly name = 'RefAdvertisementTooLargeError';
  readonly reason = FETCH_REFUSED_REASONS.RefAdvertisementTooLarge;
  constructor(
    readonly url: string,
    readonly limit: { bytes: number } | { refs: number },
  ) {
    super(
      'bytes' in limit
        ? `ref advertisement of ${url} is over ${formatBytes(limit.bytes)} (limit); nothing was fetched`
        : `ref advertisement of ${url} lists over ${limit.refs} refs (limit); nothing was fetched`,
    );
  }
}

/** A refusal by a fetch limit: permanent for this ref and commit, never a reason to retry or to clone again. */
export const isFetchRefused = (err: unknown): err is PackTooLargeError | RefAdvertisementTooLargeError =>
  err instanceof PackTooLargeError || err instanceof RefAdvertisementTooLargeError;

/** The ref a fetch asked for is not on the remote (deleted, never pushed, or a pull request number that does not exist). */
export class RefNotFoundError extends Error {
  override readonly name = 'RefNotFoundError';
  readonly reason = 'RefNotFound' as const;
}
