/**
 * Validates agent protocol messages (schemas/agent-protocol.schema.json) where they cross the network: the control
 * plane checks what agents send, the agent checks what the control plane answers.
 */
import type {
  AgentDesiredResponse,
  AgentRegisterRequest,
  AgentRegisterResponse,
  AgentRotateResponse,
  AgentStatusAnswer,
  AgentStatusBatch,
} from './generated/agent-protocol.js';
import { agentProtocolSchema } from './generated/agent-protocol.js';
import { workflowAppSchema } from './generated/schemas.js';
import { createAjv, lazy } from './schema/create-ajv.js';

export interface AgentMessages {
  AgentRegisterRequest: AgentRegisterRequest;
  AgentRegisterResponse: AgentRegisterResponse;
  AgentRotateResponse: AgentRotateResponse;
  AgentDesiredResponse: AgentDesiredResponse;
  AgentStatusBatch: AgentStatusBatch;
  AgentStatusAnswer: AgentStatusAnswer;
}
export type AgentMessageKind = keyof AgentMessages;

const ajv = lazy(() => {
  const a = createAjv({ useDefaults: false });
  a.addSchema(workflowAppSchema, 'workflow-app.schema.json');
  a.addSchema(agentProtocolSchema, 'agent-protocol.schema.json');
  return a;
});

/** The message as its type, or the problems as `path: message` lines (at most 20). */
export function validateAgentMessage<K extends AgentMessageKind>(
  kind: K,
  value: unknown,
): { ok: true; value: AgentMessages[K] } | { ok: false; errors: string[] } {
  const validate = ajv().getSchema(`agent-protocol.schema.json#/$defs/${kind}`);
  if (!validate) throw new Error(`no agent protocol message ${kind}`);
  if (validate(value)) return { ok: true, value: value as AgentMessages[K] };
  return { ok: false, errors: (validate.errors ?? []).slice(0, 20).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`) };
}
