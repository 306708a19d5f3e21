/** The agent target as the registry builds it: `agent:<pool>` in environments.target, the pool required. */
import type { TargetFactory } from '../target-factory.js';
import { type AgentTarget, type AgentTargetOptions, createAgentTarget } from './agent-target.js';

export type AgentTargetSettings = Omit<AgentTargetOptions, 'log'>;

export const agentTargetFactory: TargetFactory<AgentTargetSettings, AgentTarget> = {
  qualifier: 'required',
  create: async (settings, deps) => createAgentTarget({ ...settings, log: deps.log }),
};

export { deletionHash, documentHash, workflowAppOf } from './agent-document.js';
export type { AgentTarget, AgentTargetOptions };
