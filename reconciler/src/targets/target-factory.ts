/** How the registry builds a target of one kind. Each target folder exports one of these. */
import type { Target } from '@wharf/contracts';
import type { Logger } from 'pino';

/** What every factory gets besides its own settings. */
export interface TargetDeps {
  log: Logger;
}

export interface TargetFactory<Settings, T extends Target = Target> {
  /** Whether names of this kind carry a qualifier: `agent:<pool>` must, `kubernetes[:<cluster>]` may, `local` must not. */
  qualifier: 'none' | 'optional' | 'required';
  create(settings: Settings, deps: TargetDeps): Promise<T>;
}

/** A factory for a target built elsewhere (a test double, a fake): the registry serves it under the given name. */
export const existingTarget = <T extends Target>(target: T, qualifier: TargetFactory<unknown>['qualifier'] = 'optional'): TargetFactory<unknown, T> => ({
  qualifier,
  create: async () => target,
});
