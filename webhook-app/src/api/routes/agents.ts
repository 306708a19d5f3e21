/**
 * AGENTS: A MARKED PLACE. The agents work (agent registration tokens and credentials, in their own store modules)
 * lands beside this; then these three handlers call its store functions, scoped by `actingOf(ctx)` like every
 * other route here, and the `agent` live event is sent from its liveness updates. Until then they answer 501 with a
 * problem, after authentication and the permission check, so clients and the OpenAPI document are already right.
 */
import type { Handler } from '../handler.js';
import { ProblemError } from '../http/problem-error.js';

const notYet: Handler = async () => {
  throw new ProblemError('not-implemented', 'agents arrive with the agents work (issue for agents on Proxmox)');
};

export const agentHandlers = { listAgents: notYet, listAgentTokens: notYet, createAgentToken: notYet } satisfies Record<string, Handler>;
