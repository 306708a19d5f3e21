/**
 * The agent's small error vocabulary. Every failure is an AgentError with a `reason` and a `retry` class, both from
 * contracts' AGENT_FAILURES (each reason is a condition reason the environment shows):
 *   - 'backoff'     transient (unreachable node, task failed for a passing cause): retry with exponential backoff;
 *   - 'user-change' nothing will change until a person acts (wrong token, missing privilege, missing template,
 *                   full storage, changed host key): report it, retry only slowly or when the desired state changes.
 * Messages say what failed, where, and what to do.
 */
import { AGENT_FAILURES, type AgentFailureReason, type AgentRetryClass } from '@wharf/contracts';

export type AgentReason = AgentFailureReason;
export type RetryClass = AgentRetryClass;

export class AgentError extends Error {
  readonly retry: RetryClass;
  readonly details: Record<string, unknown>;
  constructor(
    readonly reason: AgentReason,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.retry = AGENT_FAILURES[reason];
    this.details = options.details ?? {};
  }
}

export function isAgentError(err: unknown, reason?: AgentReason): err is AgentError {
  return err instanceof AgentError && (reason === undefined || err.reason === reason);
}
