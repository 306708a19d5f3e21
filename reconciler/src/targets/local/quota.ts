/**
 * The cap on environments one repository runs on this machine at once. A preview that would go over it is Stalled
 * (QuotaExceeded) until a slot frees (a teardown makes it due again); production always starts, however many
 * previews run.
 */
import { REASONS, type TargetEnvironment } from '@wharf/contracts';
import { StalledError } from '../../errors.js';

/** The setting that raises the cap; named in the status of a preview it stops. */
export const QUOTA_SETTING = 'WHARF_LOCAL_MAX_ENVIRONMENTS_PER_REPO';
export const DEFAULT_MAX_ENVIRONMENTS_PER_REPO = 10;

/** Throws StalledError(QuotaExceeded) when `env` may not start while `running` others of its repository run. */
export function checkQuota(env: Pick<TargetEnvironment, 'kind' | 'name'>, running: number, max: number): void {
  if (env.kind === 'production' || running < max) return;
  throw new StalledError(
    `${env.name} not started: ${running} environments of this repository already run on this machine, the most ${QUOTA_SETTING} (${max}) allows. ` +
      'Tear down a preview (close its pull request or delete its branch) or raise the setting; it starts as soon as a slot frees. Production always runs.',
    { reason: REASONS.QuotaExceeded },
  );
}
