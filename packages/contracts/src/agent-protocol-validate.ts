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

/** Whether any string (or key) of a parsed JSON value holds a NUL character. */
const holdsNul = (v: unknown): boolean =>
  typeof v === 'string'
    ? v.includes('\0')
    : Array.isArray(v)
      ? v.some(holdsNul)
      : v !== null && typeof v === 'object' && Object.entries(v).some(([k, x]) => k.includes('\0') || holdsNul(x));

/** The message as its type, or the problems as `path: message` lines (at most 20). */
export function validateAgentMessage<K extends AgentMessageKind>(
  kind: K,
  value: unknown,
): { ok: true; value: AgentMessages[K] } | { ok: false; errors: string[] } {
  const validate = ajv().getSchema(`agent-protocol.schema.json#/$defs/${kind}`);
  if (!validate) throw new Error(`no agent protocol message ${kind}`);
  if (validate(value)) {
    // Postgres stores no NUL in text or jsonb: one such string would fail the statement that records the reports of
    // every agent answering at that moment, other tenants' included. Refused here, for the sender alone.
    if (holdsNul(value)) return { ok: false, errors: ['/: a string holds a NUL character (\\u0000)'] };
    return { ok: true, value: value as AgentMessages[K] };
  }
  return { ok: false, errors: (validate.errors ?? []).slice(0, 20).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`) };
}
