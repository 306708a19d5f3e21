/**
 * What the author waits for goes first. GitHub takes about one write per second per installation, so the order of
 * an installation's writes is what a person sees: the drain sends the most urgent stream first (0 first).
 *
 *   0 the answer to "is my commit good, where is my preview": wharf/validate's result, wharf/preview's result
 *   1 the preview's deployment status (the "View deployment" button), replies to commands, the rollback pull request
 *   2 progress: queued and in-progress checks and deployment statuses (often replaced before they go out)
 *   3 details: the plan, the pull request's comment
 *   4 housekeeping: deployments marked inactive after a teardown
 */
import type { DeploymentState } from '@wharf/contracts';
import type { CheckRunOutput } from '../reporter.js';
import { CHECK_NAMES, type CheckName } from '../types.js';

export const PRIORITIES = { result: 0, deployment: 1, reply: 1, progress: 2, details: 3, housekeeping: 4 } as const;

export function checkPriority(name: CheckName, output: Pick<CheckRunOutput, 'status'>): number {
  if (output.status !== 'completed') return PRIORITIES.progress;
  return name === CHECK_NAMES.plan ? PRIORITIES.details : PRIORITIES.result;
}

export function deploymentPriority(state: DeploymentState): number {
  switch (state) {
    case 'success':
    case 'failure':
    case 'error':
      return PRIORITIES.deployment;
    case 'inactive':
      return PRIORITIES.housekeeping;
    default:
      return PRIORITIES.progress;
  }
}
