/**
 * What an environment is, in the words every part of Wharf uses: its kind, its drift mode, and the name a pull
 * request's preview gets. Defined here once; the store's CHECK constraints and the manifest schema spell the same
 * values (a test keeps them in step).
 */
export const ENVIRONMENT_KINDS = ['production', 'preview'] as const;
export type EnvironmentKind = (typeof ENVIRONMENT_KINDS)[number];

/** When what runs drifts from what is desired: put it right (`correct`), or only say so (`warn`). */
export const DRIFT_MODES = ['correct', 'warn'] as const;
export type DriftMode = (typeof DRIFT_MODES)[number];
export const DEFAULT_DRIFT_MODE: DriftMode = 'correct';

/** The environment that follows production's branch. */
export const PRODUCTION_ENVIRONMENT = 'production' as const;

/** The environment of pull request `n`: `pr-7`. */
export const previewEnvironmentName = (prNumber: number): string => `pr-${prNumber}`;
