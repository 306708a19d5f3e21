/** The local target as the registry builds it: `local` in environments.target, no qualifier. */
import type { TargetFactory } from '../target-factory.js';
import { createLocalTarget, type LocalTarget, type LocalTargetOptions } from './local-target.js';

export type LocalTargetSettings = Omit<LocalTargetOptions, 'log'>;

export const localTargetFactory: TargetFactory<LocalTargetSettings, LocalTarget> = {
  qualifier: 'none',
  create: (settings, deps) => createLocalTarget({ ...settings, log: deps.log }),
};

export type { LocalTarget, LocalTargetOptions };
