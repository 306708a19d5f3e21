/**
 * The explicit registry of target implementations. `kubernetes` and `agent` join this map when they land; the
 * reconciler itself only sees `Record<string, Target>` keyed by `environments.target`.
 */
import { createLocalTarget, type LocalTargetOptions } from './local/local-target.js';
import { createMemoryTarget, type MemoryTargetOptions } from './memory/memory-target.js';
import type { Target } from './target.js';

export const TARGET_FACTORIES = {
  local: createLocalTarget,
  memory: createMemoryTarget,
} as const;
export type TargetName = keyof typeof TARGET_FACTORIES;

export interface TargetsConfig {
  local?: LocalTargetOptions;
  memory?: MemoryTargetOptions;
}

/** Builds the targets named in `config`; pass the result to createReconciler({ targets }). */
export async function createTargets(config: TargetsConfig): Promise<Record<string, Target>> {
  const targets: Record<string, Target> = {};
  if (config.local) targets.local = await TARGET_FACTORIES.local(config.local);
  if (config.memory) targets.memory = TARGET_FACTORIES.memory(config.memory);
  return targets;
}
